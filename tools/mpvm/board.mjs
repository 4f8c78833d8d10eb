// A virtual MicroPython board: the official WebAssembly VM behind a serial line.
//
//   node tools/mpvm/board.mjs --serial-fd FD --flash DIR [--boot power|soft|soft-raw]
//                             [--heapsize BYTES] [--clock HOST:FOB:RATE]
//                             [--height 32|64] [--display-timeout-ms MS]
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
//   {"event": "heap", "alloc": N, "live": N, "free": N}
//                                              bytes in use, in use after gc.collect(), free
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import tty from "node:tty";

const EXIT_SOFT = 64;
const EXIT_SOFT_RAW = 65;
const EXIT_HARD = 66;
const RAW_BANNER = "raw REPL; CTRL-B to exit\r\n";
const FRIENDLY_MARK = 'Type "help()" for more information.';
const RAW_PASTE_REQUEST = [0x05, 0x41, 0x01];
const MAX_PENDING = 64 * 1024; // bytes received and not yet read; more are dropped, as by a full USB buffer
const HIDDEN = new Set(["/dev", "/proc", "/tmp", "/home"]); // the VM's own, not the board's flash

function parseArgs(argv) {
  const opts = { boot: "power", heapsize: 256 * 1024, clock: null, displayTimeoutMs: 30000, height: 32 };
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

// -- the serial line ----------------------------------------------------------------
const serialFd = opts.serialFd;

function writeSerial(bytes) {
  let view = Buffer.from(bytes);
  while (view.length) {
    try {
      view = view.subarray(fs.writeSync(serialFd, view));
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
      return; // nobody reads the port and its buffer is full: drop, as USB CDC does
    }
  }
}

// What the VM prints goes to the serial line in small batches (a byte per write would be slow).
let outBuffer = [];
let outTail = ""; // the last characters printed: which REPL mode we are in
let replMode = "friendly";
let muted = false;
let flushScheduled = false;

function vmOut(byte) {
  if (muted) return;
  outBuffer.push(byte);
  outTail = (outTail + String.fromCharCode(byte)).slice(-40);
  if (outTail.endsWith(RAW_BANNER)) replMode = "raw";
  else if (outTail.endsWith(FRIENDLY_MARK)) replMode = "friendly";
  if (outBuffer.length >= 512) flushOut();
  else if (!flushScheduled) {
    flushScheduled = true; // what an asyncio app prints leaves once the VM yields
    setImmediate(flushOut);
  }
  pollWhileBusy();
}

// The VM raises OSError with WASI's errno numbers (ENOENT is 44) and prints only the
// number; a board prints "[Errno 2] ENOENT", which is what mpremote understands.
const WASI_ERRNO = {
  63: [1, "EPERM"], 44: [2, "ENOENT"], 29: [5, "EIO"], 8: [9, "EBADF"], 6: [11, "EAGAIN"], 48: [12, "ENOMEM"],
  20: [17, "EEXIST"], 43: [19, "ENODEV"], 54: [20, "ENOTDIR"], 31: [21, "EISDIR"], 28: [22, "EINVAL"],
  51: [28, "ENOSPC"], 69: [30, "EROFS"], 55: [39, "ENOTEMPTY"],
}; // (WASI's EACCES, 2, is left alone: 2 is also the ENOENT that MicroPython raises itself)

function boardErrno(text) {
  return text.replace(/OSError: (\d+)(?=\r?\n)/g, (whole, number) => {
    const known = WASI_ERRNO[number];
    return known ? "OSError: [Errno " + known[0] + "] " + known[1] : whole;
  });
}

function flushOut() {
  flushScheduled = false;
  if (outBuffer.length) {
    writeSerial(Buffer.from(boardErrno(Buffer.from(outBuffer).toString("latin1")), "latin1"));
    outBuffer = [];
  }
}

function say(text) {
  for (const byte of Buffer.from(text, "latin1")) vmOut(byte);
  flushOut();
}

// -- Ctrl-C while Python runs synchronously ----------------------------------------
// The REPL runs a line synchronously, so the event loop cannot read the pty until
// it returns.  Whenever the VM asks the time (time.sleep, ticks_ms) or prints,
// we read the pty without blocking, as a board's USB interrupt would: Ctrl-C
// schedules KeyboardInterrupt, other bytes wait their turn.
let busy = false;
let lastPoll = 0;
const pending = []; // received bytes not yet handed to the REPL or the app

function interruptChar() {
  return globalThis.Module._mp_hal_get_interrupt_char();
}

function pollWhileBusy() {
  const now = Date.now();
  if (now - lastPoll < 5) return;
  lastPoll = now;
  flushOut(); // output leaves as it is printed, also before a long time.sleep
  if (!busy) return;
  const chunk = Buffer.alloc(256);
  let n = 0;
  try {
    n = fs.readSync(serialFd, chunk, 0, chunk.length, null);
  } catch (error) {
    if (error.code !== "EAGAIN") throw error;
  }
  for (const byte of chunk.subarray(0, n)) {
    if (byte === interruptChar()) globalThis.Module._mp_sched_keyboard_interrupt();
    else pending.push(byte);
  }
}

const realInstantiate = WebAssembly.instantiate;
WebAssembly.instantiate = (binary, imports) => {
  for (const name of ["mp_js_ticks_ms", "mp_js_time_ms"]) {
    const original = imports.env[name];
    imports.env[name] = () => {
      pollWhileBusy();
      return original();
    };
  }
  return realInstantiate(binary, imports);
};

// -- the flash, written through to the host -------------------------------------------
function loadFlash(FS, hostDir, vmDir) {
  for (const entry of fs.readdirSync(hostDir, { withFileTypes: true })) {
    const host = path.join(hostDir, entry.name);
    const vm = path.posix.join(vmDir, entry.name);
    if (HIDDEN.has(vm)) continue;
    if (entry.isDirectory()) {
      FS.mkdirTree(vm);
      loadFlash(FS, host, vm);
    } else if (entry.isFile()) FS.writeFile(vm, fs.readFileSync(host));
  }
}

function hostPath(vmPath) {
  const normal = path.posix.resolve(FS.cwd(), vmPath);
  if (!normal.startsWith("/") || [...HIDDEN].some((p) => normal === p || normal.startsWith(p + "/"))) return null;
  return path.join(opts.flash, normal);
}

function writeThrough(FS) {
  const wrap = (name, after) => {
    const original = FS[name];
    FS[name] = (...args) => {
      const result = original.apply(FS, args);
      after(...args);
      emit("flash");
      return result;
    };
  };
  const O_ACCMODE = 3;
  const original = FS.close;
  FS.close = (stream) => {
    const written = (stream.flags & O_ACCMODE) !== 0 && FS.isFile(stream.node.mode);
    const vmPath = stream.path;
    original.call(FS, stream);
    const host = written && hostPath(vmPath);
    if (host) {
      fs.mkdirSync(path.dirname(host), { recursive: true });
      const tmp = host + ".vmtmp";
      fs.writeFileSync(tmp, FS.readFile(vmPath));
      fs.renameSync(tmp, host);
      emit("flash");
    }
  };
  wrap("rename", (from, to) => {
    const [a, b] = [hostPath(from), hostPath(to)];
    if (a && b && fs.existsSync(a)) {
      fs.mkdirSync(path.dirname(b), { recursive: true });
      fs.renameSync(a, b);
    }
  });
  wrap("unlink", (p) => {
    const host = hostPath(p);
    if (host) fs.rmSync(host, { force: true });
  });
  wrap("mkdir", (p) => {
    const host = hostPath(p);
    if (host) fs.mkdirSync(host, { recursive: true });
  });
  wrap("rmdir", (p) => {
    const host = hostPath(p);
    if (host) fs.rmSync(host, { recursive: true, force: true });
  });
}

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
  stdout: (bytes) => bytes.forEach(vmOut),
  stderr: (bytes) => bytes.forEach(vmOut),
});
const FS = mp.FS;
for (const dir of ["/home/web_user", "/home", "/tmp"]) {
  try {
    FS.rmdir(dir);
  } catch {
    // a directory the runtime still uses stays
  }
}
loadFlash(FS, opts.flash, "/");
writeThrough(FS);
// A board's VFS takes "" for the current directory (mpremote's `cp x :/` stats it); Emscripten's FS does not.
for (const name of ["stat", "lstat"]) {
  const original = FS[name];
  FS[name] = (p, ...rest) => original.call(FS, p === "" ? FS.cwd() : p, ...rest);
}

let serialWaiter = null; // the app's callback for "bytes arrived"
let buttonWaiter = null;
let heldUntil = 0; // Date.now() until which the button is held down
let interruptMain = null; // while main.py runs: stops it as Ctrl-C does

mp.registerJsModule("simhost", {
  serial_take: () => {
    const hex = Buffer.from(pending).toString("hex");
    pending.length = 0;
    return hex;
  },
  serial_write: (hex) => writeSerial(Buffer.from(hex, "hex")),
  on_serial: (callback) => {
    serialWaiter = callback;
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
  soft_reset: () => finish(replMode === "raw" ? EXIT_SOFT_RAW : EXIT_SOFT),
});

function finish(code) {
  flushOut();
  process.exit(code);
}

// Whether a script ran to its end, as a board's pyexec_file reports it.
function runSync(source) {
  busy = true;
  try {
    mp.runPython(source);
    return true;
  } catch (error) {
    if (isSystemExit(error)) softResetAfterScript();
    say(String(error.message).replace(/\r?\n/g, "\r\n"));
    return false;
  } finally {
    busy = false;
    flushOut();
  }
}

// SystemExit out of boot.py or main.py is a soft reset on a board, not the REPL
// (shared/runtime/pyexec.c, parse_compile_execute: PYEXEC_FORCED_EXIT; ports/rp2/main.c,
// main: goto soft_reset_exit).
function isSystemExit(error) {
  return /(^|\n)SystemExit\b[^\n]*\n?$/.test(String(error.message));
}

function softResetAfterScript() {
  say("MPY: soft reboot\r\n");
  finish(EXIT_SOFT);
}

// As a board's pyexec does, Ctrl-C is the interrupt character while a script runs.
const SCRIPT_PRELUDE = "import micropython\nmicropython.kbd_intr(3)\ndel micropython\n";

// asyncio.run cannot block in this port (its event loop is JavaScript's), so
// main.py runs as a top-level coroutine in which asyncio.run(...) is awaited;
// Ctrl-C cancels the task it started and raises KeyboardInterrupt in its place.
const MAIN_PRELUDE = `
import asyncio
_vm_main = {"task": None, "interrupted": False}
async def _vm_asyncio_run(coro):
    _vm_main["task"] = task = asyncio.create_task(coro)
    try:
        return await task
    except asyncio.CancelledError:
        if _vm_main["interrupted"]:
            raise KeyboardInterrupt
        raise
    finally:
        _vm_main["task"] = None
def _vm_interrupt():
    if _vm_main["task"] is not None:
        _vm_main["interrupted"] = True
        _vm_main["task"].cancel()
asyncio.run = _vm_asyncio_run
`;

async function runMain(source) {
  runSync(SCRIPT_PRELUDE + MAIN_PRELUDE);
  interruptMain = mp.globals.get("_vm_interrupt");
  try {
    busy = true; // until its first await, main.py runs synchronously
    const done = mp.runPythonAsync(source.replace(/\basyncio\.run\(/g, "await asyncio.run("));
    busy = false;
    if (pending.length && serialWaiter) serialWaiter();
    await done;
  } catch (error) {
    busy = false;
    if (isSystemExit(error)) softResetAfterScript();
    say(String(error.message).replace(/\r?\n/g, "\r\n"));
  } finally {
    interruptMain = null;
    runSync("for _vm in ('_vm_main', '_vm_asyncio_run', '_vm_interrupt'):\n    globals().pop(_vm, None)\ndel _vm");
  }
}

function exists(vmPath) {
  try {
    return FS.isFile(FS.stat(vmPath).mode);
  } catch {
    return false;
  }
}

// -- the REPL ------------------------------------------------------------------------
let rawLineEmpty = false;
let replReady = false;

function startRepl(raw) {
  muted = raw;
  mp.replInit();
  if (raw) {
    mp.replProcessChar(0x01);
    muted = false;
    replMode = "raw";
    say(RAW_BANNER + ">");
  }
  flushOut();
  rawLineEmpty = true;
  replReady = true;
}

function feedRepl() {
  while (pending.length && replReady) {
    // Raw-paste needs blocking reads, which this event-driven port cannot do: refuse it.
    if (replMode === "raw" && rawLineEmpty && pending[0] === 0x05) {
      if (pending.length < 3) return; // wait for the rest of the request
      if (RAW_PASTE_REQUEST.every((byte, i) => pending[i] === byte)) {
        pending.splice(0, 3);
        say("R\x00");
        continue;
      }
    }
    const byte = pending.shift();
    busy = true;
    let result;
    try {
      result = mp.replProcessChar(byte);
    } finally {
      busy = false;
    }
    flushOut();
    if (result !== 0) {
      say("MPY: soft reboot\r\n");
      finish(replMode === "raw" ? EXIT_SOFT_RAW : EXIT_SOFT);
    }
    rawLineEmpty = replMode === "raw" && (outTail.endsWith(">") || byte === 0x01 || byte === 0x03);
  }
}

function received(bytes) {
  for (const byte of bytes) {
    if (interruptMain && byte === interruptChar()) interruptMain();
    else if (pending.length < MAX_PENDING) pending.push(byte);
  }
  if (interruptMain) {
    if (pending.length && serialWaiter) serialWaiter();
  } else feedRepl();
}

const serialIn = new tty.ReadStream(serialFd);
serialIn.on("data", received);
serialIn.on("error", () => finish(0));

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  if (message.cmd === "press") {
    heldUntil = Date.now() + (message.ms || 0);
    if (buttonWaiter) buttonWaiter();
  }
  else if (message.cmd === "heap") {
    const gc = mp.pyimport("gc");
    const before = gc.mem_alloc();
    gc.collect();
    emit("heap", { alloc: before, live: gc.mem_alloc(), free: gc.mem_free() });
  }
});
process.stdin.on("end", () => finish(0));

// -- boot, as a board does it ------------------------------------------------------------
emit("booted", { boot: opts.boot });
// An exception out of boot.py skips main.py (ports/rp2/main.c, main: main.py runs only if
// pyexec_file_if_exists("boot.py") returned non-zero, which an exception does not).
let bootRan = true;
if (exists("/boot.py")) {
  runSync(SCRIPT_PRELUDE);
  bootRan = runSync(FS.readFile("/boot.py", { encoding: "utf8" }));
}
if (bootRan && opts.boot !== "soft-raw" && exists("/main.py")) {
  await runMain(FS.readFile("/main.py", { encoding: "utf8" }));
}
startRepl(opts.boot === "soft-raw");
feedRepl();
