// A virtual MicroPython board: the official WebAssembly VM behind a serial line.
//
//   node tools/mpvm/board.mjs --serial-fd FD --flash DIR [--boot power|soft|soft-raw]
//                             [--heapsize BYTES] [--clock HOST:FOB:RATE]
//                             [--height 32|64] [--display-timeout-ms MS] [--heap-watch MS]
//
// FD is the master side of a pty that the parent (fobsim.micropython_engine)
// opened; the parent keeps the slave open, so the port outlives this process.
// Over it the VM speaks what a USB-connected board speaks: the friendly REPL,
// the raw REPL (raw-paste is refused with "R\x00", as on ports without it),
// Ctrl-C, and Ctrl-D soft reset.
//
// One process is one boot of the board.  A soft or hard reset ends the
// process with an exit status that tells the parent how to boot the next one
// (a fresh VM, as a reset leaves a fresh heap), so no timer or object of the
// old VM survives a reset:
//   64: soft reset from the friendly REPL (boot.py, then main.py)
//   65: soft reset from the raw REPL (boot.py, then the raw REPL again)
//   66: hard reset, machine.reset() (as at power-on)
//
// DIR is the board's flash: loaded into the VM's filesystem at boot, and every
// change is written through to DIR at once (a closed file, a rename, a removal),
// so a killed simulator loses no more than a board losing power would.
//
// Standard input and output are the bridge to the parent, one JSON object per
// line.  In: {"cmd": "press"} (the button), {"cmd": "heap"}.  Out:
//   {"event": "booted", "boot": KIND}          the VM is up (before boot.py)
//   {"event": "frame", "data": HEX, "fob": S}  the display buffer was shown; S: the fob time last read
//   {"event": "power", "on": BOOL}             the panel was switched
//   {"event": "clock", "host": S, "fob": S}    the RTC was set
//   {"event": "flash"}                         the flash changed
//   {"event": "heap", "alloc": N, "live": N, "free": N, "total": N, "grown": BOOL|null}
//                                              bytes in use, in use after gc.collect(), free, the
//                                              heap's size now, whether it ever grew (--heap-watch)
//
// This port grows its heap on demand (MICROPY_GC_SPLIT_HEAP_AUTO): a failed allocation adds a
// heap area without collecting first (ports/webassembly/main.c, gc_collect only marks a
// collection pending; py/gc.c, gc_alloc then gc_try_add_heap), and garbage is collected only
// when control returns to JavaScript.  --heap-watch MS makes growth observable: the automatic
// collection is off, and every MS milliseconds (between the VM's steps) the heap's size is
// checked, then collected; an added area stays until such a collection, so none goes unseen.
// The smallest --heapsize at which "grown" stays false is the fixed heap this 32-bit build
// needs when garbage is collected only between steps (a board also collects inside gc_alloc).
//
// The pieces: serialline.mjs (the pty), flash.mjs (the write-through flash), repl.mjs (boot.py,
// main.py, the REPLs).
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import readline from "node:readline";
import tty from "node:tty";
import { isFile, mountFlash } from "./flash.mjs";
import { EXIT_SOFT, EXIT_SOFT_RAW, Repl, SCRIPT_PRELUDE } from "./repl.mjs";
import { SerialLine } from "./serialline.mjs";

const EXIT_HARD = 66;
// What gc.mem_free() adds to the free bytes on this port: gc_get_max_new_split (ports/webassembly/main.c).
const MAX_NEW_SPLIT = 128 * 1024 * 1024;
// An added area holds at least 2 KiB more than the allocation that failed (py/gc.c, gc_try_add_heap);
// the sum of used and free bytes itself moves by a block or so as the heap fills.
const MIN_AREA = 1024;

function parseArgs(argv) {
  const opts = { boot: "power", heapsize: 256 * 1024, clock: null, displayTimeoutMs: 30000, height: 32, heapWatch: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error("missing value for " + key);
    if (key === "--serial-fd") opts.serialFd = parseInt(value, 10);
    else if (key === "--flash") opts.flash = path.resolve(value);
    else if (key === "--boot") opts.boot = value;
    else if (key === "--heapsize") opts.heapsize = parseInt(value, 10);
    else if (key === "--clock") opts.clock = value.split(":").map(Number);
    else if (key === "--display-timeout-ms") opts.displayTimeoutMs = parseInt(value, 10);
    else if (key === "--height") opts.height = parseInt(value, 10);
    else if (key === "--heap-watch") opts.heapWatch = parseInt(value, 10);
    else throw new Error("unknown option " + key);
  }
  if (!(opts.serialFd >= 0) || !opts.flash || !["power", "soft", "soft-raw"].includes(opts.boot)) {
    throw new Error("usage: board.mjs --serial-fd FD --flash DIR [--boot power|soft|soft-raw]");
  }
  return opts;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (error) {
  const usage = error.message.startsWith("usage:") ? error.message : "usage: board.mjs: " + error.message;
  process.stderr.write(usage + "\n");
  process.exit(2);
}

// -- the bridge to the parent ------------------------------------------------------
function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");
}

const line = new SerialLine(opts.serialFd, {
  interruptChar: () => globalThis.Module._mp_hal_get_interrupt_char(),
  interrupt: () => globalThis.Module._mp_sched_keyboard_interrupt(),
});

// Whenever the VM asks the time (time.sleep, ticks_ms), the serial line is polled.
const realInstantiate = WebAssembly.instantiate;
WebAssembly.instantiate = (binary, imports) => {
  for (const name of ["mp_js_ticks_ms", "mp_js_time_ms"]) {
    const original = imports.env[name];
    imports.env[name] = () => {
      line.poll();
      return original();
    };
  }
  return realInstantiate(binary, imports);
};

// -- the RTC: battery-backed, so the parent keeps it across boots -----------------------
// --clock HOST:FOB:RATE: at host time HOST the fob read FOB, and it runs at RATE.
let clock = opts.clock;
let lastTime = null; // the fob time the firmware last read (a code is computed from one read)
function fobTime() {
  if (!clock) return null;
  const [host, fob, rate] = clock;
  return fob + (Date.now() / 1000 - host) * rate;
}

// -- the VM ----------------------------------------------------------------------
const mp = await loadMicroPython({
  heapsize: opts.heapsize,
  linebuffer: false,
  stdout: (bytes) => bytes.forEach((byte) => line.print(byte)),
  stderr: (bytes) => bytes.forEach((byte) => line.print(byte)),
});
const FS = mp.FS;
mountFlash(FS, opts.flash, () => emit("flash"));

function finish(code) {
  line.flush(true);
  process.exit(code);
}

const repl = new Repl(mp, line, finish);
let buttonWaiter = null;
let heldUntil = 0; // Date.now() until which the button is held down

mp.registerJsModule("simhost", {
  serial_take: () => Buffer.from(line.take()).toString("hex"),
  serial_write: (hex) => line.write(Buffer.from(hex, "hex")),
  on_serial: (callback) => {
    repl.serialWaiter = callback;
  },
  on_button: (callback) => {
    buttonWaiter = callback;
  },
  button_down: () => Date.now() < heldUntil,
  show: (hex) => emit("frame", { data: hex, fob: lastTime }), // the time the firmware read for this frame
  display_power: (on) => emit("power", { on: !!on }),
  height: () => opts.height,
  display_timeout_ms: () => opts.displayTimeoutMs,
  random_hex: (count) => randomBytes(count).toString("hex"),
  unique_id: () => createHash("sha256").update(opts.flash).digest("hex").slice(0, 16),
  time: () => (lastTime = fobTime()),
  set_time: (seconds) => {
    clock = [Date.now() / 1000, seconds, clock ? clock[2] : 1];
    emit("clock", { host: clock[0], fob: seconds });
  },
});
// machine.reset() and soft_reset() do not return on a board: this boot ends here.
mp.registerJsModule("machine", {
  reset: () => finish(EXIT_HARD),
  soft_reset: () => finish(line.replMode === "raw" ? EXIT_SOFT_RAW : EXIT_SOFT),
});

// -- the heap ----------------------------------------------------------------------------
const gc = mp.pyimport("gc");
const heapTotal = () => gc.mem_alloc() + gc.mem_free() - MAX_NEW_SPLIT; // summed over the heap's areas
const firstTotal = heapTotal();
let grown = opts.heapWatch ? false : null;
if (opts.heapWatch) {
  gc.disable(); // py/gc.c, gc_alloc: no threshold collection, so an added area stays until watch() collects
  const watch = () => {
    if (heapTotal() > firstTotal + MIN_AREA) grown = true;
    gc.collect(); // marks it pending: it runs as this call returns to JavaScript (ports/webassembly/main.c)
  };
  setInterval(watch, opts.heapWatch).unref();
}

function reportHeap() {
  const before = gc.mem_alloc();
  if (opts.heapWatch && heapTotal() > firstTotal + MIN_AREA) grown = true;
  gc.collect();
  emit("heap", { alloc: before, live: gc.mem_alloc(), free: gc.mem_free() - MAX_NEW_SPLIT, total: heapTotal(), grown });
}

// -- the serial line and the parent -----------------------------------------------------
const serialIn = new tty.ReadStream(opts.serialFd);
serialIn.on("data", (bytes) => repl.received(bytes));
serialIn.on("error", () => finish(0));

readline.createInterface({ input: process.stdin }).on("line", (text) => {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return;
  }
  if (message.cmd === "press") {
    heldUntil = Date.now() + (message.ms || 0);
    if (buttonWaiter) buttonWaiter();
  } else if (message.cmd === "heap") reportHeap();
});
process.stdin.on("end", () => finish(0));

// -- boot, as a board does it ------------------------------------------------------------
emit("booted", { boot: opts.boot });
// An exception out of boot.py skips main.py (ports/rp2/main.c, main: main.py runs only if
// pyexec_file_if_exists("boot.py") returned non-zero, which an exception does not).
let bootRan = true;
if (isFile(FS, "/boot.py")) {
  repl.runSync(SCRIPT_PRELUDE);
  bootRan = repl.runSync(FS.readFile("/boot.py", { encoding: "utf8" }));
}
if (bootRan && opts.boot !== "soft-raw" && isFile(FS, "/main.py")) {
  await repl.runMain(FS.readFile("/main.py", { encoding: "utf8" }));
}
repl.start(opts.boot === "soft-raw");
