"""A MicroPython board on the unix port behind a pty: what MicroPythonDevice is for the WebAssembly port.

The unix port's REPL is a board's own (ports/unix/main.c, do_repl runs
pyexec_friendly_repl and pyexec_raw_repl, as ports/rp2/main.c does), so
mpremote and pyserial talk to it as to a USB board.  Two things a board
does are done here instead:

- a soft reset (Ctrl-D at either REPL, SystemExit out of main.py) ends the
  process (do_repl returns on PYEXEC_FORCED_EXIT), so this supervisor prints
  "MPY: soft reboot" and boots the next one, back into the raw REPL when the
  reset came from there (tools/mpvm/unixport.py repl-raw, then Ctrl-A);
- Ctrl-C: a board takes the interrupt character out of its input while it is
  armed (micropython.kbd_intr, and pyexec arms it while code runs) and raises
  KeyboardInterrupt; otherwise it is a byte like any other.  The unix port arms
  it by catching SIGINT and disarms it with SIG_DFL (ports/unix/unix_mphal.c,
  mp_hal_set_interrupt_char), so this supervisor reads that state where the
  kernel keeps it (SigCgt in /proc/PID/status): caught, Ctrl-C becomes SIGINT;
  not caught (the REPL reading a line, a sealed fob's kbd_intr(-1)), the byte
  is passed on.  The check and the signal are two steps: a Ctrl-C that arrives
  as the port disarms ends the process (seen with a burst of line noise).

The flash is a littlefs image (``image``) of the board's block size; the
process's HOME is the board's directory (the REPL keeps its history there).
"""

import os
import select
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from fobsim.ptyport import close_quietly, open_raw
from mpvm import make_image, run_on_image, unix_command

HEAPSIZE = 256 * 1024
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
READY = b"\x1b]mpvm-ready\x07"  # tools/mpvm/unixport.py READY: a script runs, Ctrl-C lands in it
PROMPTS = (b">>> ", RAW_BANNER)
FRIENDLY_MARK = b'Type "help()" for more information.'
CTRL_C = 3


def _catches_sigint(pid):
    """Whether process ``pid`` has a SIGINT handler now: the unix port's Ctrl-C is armed."""
    try:
        with open("/proc/%d/status" % pid) as f:
            caught = next(line for line in f if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGINT - 1)))


class UnixDevice:
    """A board on the unix port; ``start()`` it, then use ``port`` like a USB serial device."""

    def __init__(self, directory, heapsize=HEAPSIZE, stderr=None):
        self.directory = Path(directory)
        self.stderr = stderr  # a file for the port's standard error (a test board's frames); None: the pty
        self.image = self.directory / "flash.img"
        self.heapsize = heapsize
        self._master, self._slave = open_raw()
        self.port = os.ttyname(self._slave)
        self.boots = 0
        self.failure = None  # why the board cannot run, once it cannot
        self._process = None
        self._stopping = False
        self._up = False  # this boot runs a script or the REPL
        self._booted = threading.Condition()
        self._thread = None

    def start(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.image.exists():
            with tempfile.TemporaryDirectory() as empty:
                make_image(self.image, [(empty, "/")])
        self._thread = threading.Thread(target=self._supervise, name="unix-device", daemon=True)
        self._thread.start()
        with self._booted:  # until a script or the REPL runs (or the port could not start)
            if not self._booted.wait_for(lambda: self._up or self.failure, timeout=30):
                raise TimeoutError("the unix port did not start within 30 s")
        if self.failure:
            raise RuntimeError(self.failure)
        return self

    def stop(self):
        self._stopping = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        if self._thread is not None:
            self._thread.join(timeout=10)
        close_quietly(self._master, self._slave)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def read_flash(self, path):
        """The bytes of ``path`` on the board's flash, or None (read by the unix port itself)."""
        script = "try:\n    print(open(%r, 'rb').read().hex())\nexcept OSError:\n    print('none')\n" % path
        out = run_on_image(script, self.image).strip()
        return None if out == "none" else bytes.fromhex(out)

    def _boot(self, mode):
        master, slave = open_raw()  # bytes pass unchanged, as over USB: no byte is a signal
        env = {key: value for key, value in os.environ.items() if key != "MICROPYINSPECT"}
        env["HOME"] = str(self.directory)
        self._process = subprocess.Popen(
            unix_command(self.heapsize, mode, self.image),
            stdin=slave,
            stdout=slave,
            stderr=slave if self.stderr is None else self.stderr,
            cwd=self.directory,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        with self._booted:
            self.boots += 1
            self._booted.notify_all()
        return master

    def _to_board(self, vm, data):
        """Pass the host's bytes on; an armed Ctrl-C is a KeyboardInterrupt instead, as on a board."""
        while CTRL_C in data:
            before, data = data.split(bytes([CTRL_C]), 1)
            if before:
                os.write(vm, before)
            if _catches_sigint(self._process.pid):
                self._process.send_signal(signal.SIGINT)
            else:
                os.write(vm, bytes([CTRL_C]))
        if data:
            os.write(vm, data)

    def _supervise(self):
        raw = False
        while not self._stopping:
            vm = self._boot("repl-raw" if raw else "repl")
            muted = raw
            seen = b""
            up = False  # until a script or the REPL runs, what the host sends waits (in the pty's buffer)
            while True:
                ready, _, _ = select.select([self._master, vm] if up else [vm], [], [], 0.2)
                try:
                    if self._master in ready:
                        self._to_board(vm, os.read(self._master, 4096))
                    data = os.read(vm, 4096) if vm in ready else b""
                except OSError:
                    break  # EIO: the process has ended and its pty closed
                if not data and self._process.poll() is not None:
                    break
                if not up:
                    early = seen + data
                    if READY in early:
                        data = early.split(READY, 1)[1]  # before it, only the runner's own start
                    elif not any(prompt in early for prompt in PROMPTS):
                        seen = early
                        continue
                    else:
                        data = early
                    up, seen = True, b""
                    with self._booted:
                        self._up = True
                        self._booted.notify_all()
                    if muted:
                        os.write(vm, b"\x01")  # a board soft-reset from the raw REPL comes back to it
                seen = (seen + data)[-64:]
                if muted and RAW_BANNER in seen:
                    muted, data = False, seen[seen.index(RAW_BANNER) :]
                last_raw, last_friendly = seen.rfind(RAW_BANNER), seen.rfind(FRIENDLY_MARK)
                if last_raw != last_friendly:
                    raw = last_raw > last_friendly  # the REPL the board last announced
                if not muted and data:
                    os.write(self._master, data)
            self._process.wait()
            os.close(vm)
            if not up:  # it never came up: booting it again would loop
                with self._booted:
                    self.failure = "the unix port exited before it ran a script or its REPL: %r" % seen[-300:]
                    self._booted.notify_all()
                break
            if not self._stopping:
                os.write(self._master, b"MPY: soft reboot\r\n")
