// The board's USB serial line: the master side of a pty, as the VM sees it (tools/mpvm/board.mjs).
//
// What the VM prints leaves in small batches (a byte per write would be slow),
// with WASI's errno numbers rewritten as a board prints them.  While Python
// runs synchronously the event loop cannot read the pty, so whenever the VM
// asks the time or prints, poll() reads it without blocking, as a board's USB
// interrupt would: Ctrl-C schedules KeyboardInterrupt, other bytes wait their turn.
import fs from "node:fs";

export const RAW_BANNER = "raw REPL; CTRL-B to exit\r\n";
const FRIENDLY_MARK = 'Type "help()" for more information.';
const MAX_PENDING = 64 * 1024; // bytes received and not yet read; more are dropped, as by a full USB buffer
const RELEASE_MS = 20; // how long a possibly unfinished "OSError: N" waits for the rest of its line

// The VM raises OSError with WASI's errno numbers (ENOENT is 44) and prints only the
// number; a board prints "[Errno 2] ENOENT", which is what mpremote understands.
const WASI_ERRNO = {
  63: [1, "EPERM"], 44: [2, "ENOENT"], 29: [5, "EIO"], 8: [9, "EBADF"], 6: [11, "EAGAIN"], 48: [12, "ENOMEM"],
  20: [17, "EEXIST"], 43: [19, "ENODEV"], 54: [20, "ENOTDIR"], 31: [21, "EISDIR"], 28: [22, "EINVAL"],
  51: [28, "ENOSPC"], 69: [30, "EROFS"], 55: [39, "ENOTEMPTY"],
}; // (WASI's EACCES, 2, is left alone: 2 is also the ENOENT that MicroPython raises itself)
const ERRNO_LINE = "OSError: ";

function boardErrno(text) {
  return text.replace(/OSError: (\d+)(?=\r?\n)/g, (whole, number) => {
    const known = WASI_ERRNO[number];
    return known ? "OSError: [Errno " + known[0] + "] " + known[1] : whole;
  });
}

// Where an "OSError: N" line that may not be finished starts in ``text`` (-1: none).  A flush can
// fall inside that line (under load the VM may stall mid-print); rewritten only once whole.
function unfinishedErrno(text) {
  const started = /OSError: \d*\r?$/.exec(text);
  if (started) return started.index;
  for (let n = Math.min(ERRNO_LINE.length - 1, text.length); n > 0; n--) {
    if (ERRNO_LINE.startsWith(text.slice(-n))) return text.length - n;
  }
  return -1;
}

export class SerialLine {
  // ``vm``: {interruptChar(), interrupt()}: the VM's interrupt character and a way to raise it.
  constructor(fd, vm) {
    this.fd = fd;
    this.vm = vm;
    this.pending = []; // received bytes not yet handed to the REPL or the app
    this.busy = false; // Python runs synchronously: poll() reads the pty
    this.muted = false;
    this.replMode = "friendly"; // which REPL the output last announced
    this.tail = ""; // the last characters printed
    this.out = [];
    this.held = ""; // the start of an "OSError: N" line, waiting for its end
    this.flushScheduled = false;
    this.releaseTimer = null;
    this.lastPoll = 0;
  }

  write(bytes) {
    let view = Buffer.from(bytes);
    while (view.length) {
      try {
        view = view.subarray(fs.writeSync(this.fd, view));
      } catch (error) {
        if (error.code !== "EAGAIN") throw error;
        return; // nobody reads the port and its buffer is full: drop, as USB CDC does
      }
    }
  }

  // One byte the VM printed.
  print(byte) {
    if (this.muted) return;
    this.out.push(byte);
    this.tail = (this.tail + String.fromCharCode(byte)).slice(-40);
    if (this.tail.endsWith(RAW_BANNER)) this.replMode = "raw";
    else if (this.tail.endsWith(FRIENDLY_MARK)) this.replMode = "friendly";
    if (this.out.length >= 512) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true; // what an asyncio app prints leaves once the VM yields
      setImmediate(() => this.flush());
    }
    this.poll();
  }

  // Send what was printed; ``all``: also a held, possibly unfinished errno line.
  flush(all = false) {
    this.flushScheduled = false;
    let text = this.held + Buffer.from(this.out).toString("latin1");
    this.out = [];
    this.held = "";
    const cut = all ? -1 : unfinishedErrno(text);
    if (cut >= 0) {
      this.held = text.slice(cut);
      text = text.slice(0, cut);
      clearTimeout(this.releaseTimer);
      this.releaseTimer = setTimeout(() => this.flush(true), RELEASE_MS);
    }
    if (text) this.write(Buffer.from(boardErrno(text), "latin1"));
  }

  say(text) {
    for (const byte of Buffer.from(text, "latin1")) this.print(byte);
    this.flush();
  }

  // Called whenever the VM prints or asks the time.
  poll() {
    const now = Date.now();
    if (now - this.lastPoll < 5) return;
    this.lastPoll = now;
    this.flush(); // output leaves as it is printed, also before a long time.sleep
    if (!this.busy) return;
    const chunk = Buffer.alloc(256);
    let n = 0;
    try {
      n = fs.readSync(this.fd, chunk, 0, chunk.length, null);
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
    }
    for (const byte of chunk.subarray(0, n)) {
      if (byte === this.vm.interruptChar()) this.vm.interrupt();
      else this.pending.push(byte);
    }
  }

  // Bytes that arrived while the event loop was free; ``interrupt(byte)`` says whether one was taken as Ctrl-C.
  receive(bytes, interrupt) {
    for (const byte of bytes) {
      if (!interrupt(byte) && this.pending.length < MAX_PENDING) this.pending.push(byte);
    }
  }

  take() {
    return this.pending.splice(0, this.pending.length);
  }
}
