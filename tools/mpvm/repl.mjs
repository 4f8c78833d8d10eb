// How the board runs Python: boot.py and main.py as a board's pyexec_file does, then the
// friendly or raw REPL fed from the serial line (tools/mpvm/board.mjs).
import { RAW_BANNER } from "./serialline.mjs";

export const EXIT_SOFT = 64; // soft reset from the friendly REPL (boot.py, then main.py)
export const EXIT_SOFT_RAW = 65; // soft reset from the raw REPL (boot.py, then the raw REPL again)
const RAW_PASTE_REQUEST = [0x05, 0x41, 0x01];

// As a board's pyexec does, Ctrl-C is the interrupt character while a script runs.
export const SCRIPT_PRELUDE = "import micropython\nmicropython.kbd_intr(3)\ndel micropython\n";

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

// SystemExit out of boot.py or main.py is a soft reset on a board, not the REPL
// (shared/runtime/pyexec.c, parse_compile_execute: PYEXEC_FORCED_EXIT; ports/rp2/main.c,
// main: goto soft_reset_exit).
function isSystemExit(error) {
  return /(^|\n)SystemExit\b[^\n]*\n?$/.test(String(error.message));
}

export class Repl {
  // ``finish(status)`` ends this boot (the process) with an exit status.
  constructor(mp, line, finish) {
    this.mp = mp;
    this.line = line;
    this.finish = finish;
    this.interruptMain = null; // while main.py runs: stops it as Ctrl-C does
    this.serialWaiter = null; // the app's callback for "bytes arrived"
    this.ready = false;
    this.rawLineEmpty = false;
  }

  softResetAfterScript() {
    this.line.say("MPY: soft reboot\r\n");
    this.finish(EXIT_SOFT);
  }

  // Whether a script ran to its end, as a board's pyexec_file reports it.
  runSync(source) {
    this.line.busy = true;
    try {
      this.mp.runPython(source);
      return true;
    } catch (error) {
      if (isSystemExit(error)) this.softResetAfterScript();
      this.line.say(String(error.message).replace(/\r?\n/g, "\r\n"));
      return false;
    } finally {
      this.line.busy = false;
      this.line.flush();
    }
  }

  async runMain(source) {
    this.runSync(SCRIPT_PRELUDE + MAIN_PRELUDE);
    this.interruptMain = this.mp.globals.get("_vm_interrupt");
    try {
      this.line.busy = true; // until its first await, main.py runs synchronously
      const done = this.mp.runPythonAsync(source.replace(/\basyncio\.run\(/g, "await asyncio.run("));
      this.line.busy = false;
      if (this.line.pending.length && this.serialWaiter) this.serialWaiter();
      await done;
    } catch (error) {
      this.line.busy = false;
      if (isSystemExit(error)) this.softResetAfterScript();
      this.line.say(String(error.message).replace(/\r?\n/g, "\r\n"));
    } finally {
      this.interruptMain = null;
      this.runSync(
        "for _vm in ('_vm_main', '_vm_asyncio_run', '_vm_interrupt'):\n    globals().pop(_vm, None)\ndel _vm",
      );
    }
  }

  start(raw) {
    const line = this.line;
    line.muted = raw;
    this.mp.replInit();
    if (raw) {
      this.mp.replProcessChar(0x01);
      line.muted = false;
      line.replMode = "raw";
      line.say(RAW_BANNER + ">");
    }
    line.flush();
    this.rawLineEmpty = true;
    this.ready = true;
    this.feed();
  }

  feed() {
    const line = this.line;
    const pending = line.pending;
    while (pending.length && this.ready) {
      // Raw-paste needs blocking reads, which this event-driven port cannot do: refuse it.
      if (line.replMode === "raw" && this.rawLineEmpty && pending[0] === 0x05) {
        if (pending.length < 3) return; // wait for the rest of the request
        if (RAW_PASTE_REQUEST.every((byte, i) => pending[i] === byte)) {
          pending.splice(0, 3);
          line.say("R\x00");
          continue;
        }
      }
      const byte = pending.shift();
      line.busy = true;
      let result;
      try {
        result = this.mp.replProcessChar(byte);
      } finally {
        line.busy = false;
      }
      line.flush();
      if (result !== 0) {
        line.say("MPY: soft reboot\r\n");
        this.finish(line.replMode === "raw" ? EXIT_SOFT_RAW : EXIT_SOFT);
      }
      this.rawLineEmpty = line.replMode === "raw" && (line.tail.endsWith(">") || byte === 0x01 || byte === 0x03);
    }
  }

  // Bytes from the pty while the event loop is free: to main.py's Ctrl-C and serial reader, or to the REPL.
  received(bytes) {
    const interrupt = this.interruptMain;
    this.line.receive(bytes, (byte) => {
      if (!interrupt || byte !== this.line.vm.interruptChar()) return false;
      interrupt();
      return true;
    });
    if (this.interruptMain) {
      if (this.line.pending.length && this.serialWaiter) this.serialWaiter();
    } else this.feed();
  }
}
