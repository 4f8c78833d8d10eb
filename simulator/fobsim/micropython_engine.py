"""The virtual MicroPython board: the official MicroPython VM (WebAssembly, in Node) behind a pty.

``VMBoard`` owns the pty and supervises tools/mpvm/board.mjs, which runs one
boot of the board: a soft or hard reset ends that process with a status
saying how to boot the next, and a fresh one starts on the same pty (a
reset leaves a fresh heap; the pty, like a USB port, stays).  The board's
flash is a host directory, written through by the VM; its battery-backed
clock is a fobsim.clock.VirtualClock saved next to it.  Over the pty,
``mpremote``, ``fob flash --board sim`` and ``fob provision`` work as with
hardware.  ``run_micropython_sim`` is `fob sim --engine micropython`.
"""

import json
import os
import shutil
import subprocess
import threading
import tty
from pathlib import Path

from fobsim.clock import VirtualClock

ROOT = Path(__file__).resolve().parents[2]
BOARD_SCRIPT = ROOT / "tools" / "mpvm" / "board.mjs"
HEAPSIZE = 256 * 1024  # a small board's heap (an RP2040 has about 190 KiB free)

# Exit statuses of board.mjs, and the boot each asks for.
_NEXT_BOOT = {64: "soft", 65: "soft-raw", 66: "power"}


class VMBoard:
    """A virtual MicroPython board on a pty; ``start()`` it, then use ``port`` like a USB serial device.

    ``on_event(dict)`` receives what the board reports (frames, display power,
    boots); it runs on the supervisor thread.
    """

    def __init__(self, directory, clock=None, heapsize=HEAPSIZE, on_event=None, height=32, display_timeout_ms=30000):
        self.directory = Path(directory)
        self.flash = self.directory / "flash"
        self.flash.mkdir(parents=True, exist_ok=True)
        self._clock_path = str(self.directory / "clock.json")
        self.clock = clock if clock is not None else VirtualClock.load(self._clock_path)
        self.heapsize = heapsize
        self.height = height
        self.display_timeout_ms = display_timeout_ms
        self.on_event = on_event
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes pass unchanged: no echo, no CR/LF translation
        os.set_blocking(self._master, False)  # the VM polls it while Python code runs synchronously
        self.port = os.ttyname(self._slave)
        self.boots = 0
        self._process = None
        self._lock = threading.Lock()
        self._stopping = False
        self._booted = threading.Condition()
        self._replies = {}
        self._thread = None

    # -- life -------------------------------------------------------------------------
    def start(self):
        """Power the board on; returns once the VM has booted (main.py may still be starting)."""
        self._thread = threading.Thread(target=self._supervise, name="vmboard", daemon=True)
        self._thread.start()
        self.wait_booted(0)
        return self

    def stop(self):
        """Power off: end the VM, close the port."""
        self._stopping = True
        with self._lock:
            process = self._process
        if process is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=10)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self.clock.save(self._clock_path)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait_booted(self, boots, timeout=30):
        """Wait until the board has booted more than ``boots`` times in all."""
        with self._booted:
            if not self._booted.wait_for(lambda: self.boots > boots or self._stopping, timeout):
                raise TimeoutError("the virtual board did not boot within %s s" % timeout)

    def _command(self, boot):
        now = self.clock.now()
        command = ["node", str(BOARD_SCRIPT), "--serial-fd", str(self._master), "--flash", str(self.flash)]
        command += ["--boot", boot, "--heapsize", str(self.heapsize), "--height", str(self.height)]
        command += ["--display-timeout-ms", str(self.display_timeout_ms)]
        if now is not None:
            import time

            command += ["--clock", "%r:%r:%r" % (time.time(), now, self.clock.rate)]
        return command

    def _supervise(self):
        boot = "power"
        while not self._stopping:
            process = subprocess.Popen(
                self._command(boot),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                pass_fds=(self._master,),
                cwd=ROOT,
                text=True,
                bufsize=1,
            )
            with self._lock:
                self._process = process
            for line in process.stdout:
                self._dispatch(line)
            status = process.wait()
            boot = _NEXT_BOOT.get(status, "power")  # a crashed VM: the board restarts as at power-on
        with self._booted:
            self._booted.notify_all()

    def _dispatch(self, line):
        try:
            event = json.loads(line)
        except ValueError:
            return
        kind = event.get("event")
        if kind == "booted":
            with self._booted:
                self.boots += 1
                self._booted.notify_all()
        elif kind == "clock":
            self.clock.set(event["fob"])
            self.clock.save(self._clock_path)
        elif kind == "heap":
            with self._booted:
                self._replies["heap"] = event
                self._booted.notify_all()
        if self.on_event is not None:
            self.on_event(event)

    def _send(self, message):
        with self._lock:
            process = self._process
        if process is None:
            return
        try:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except (OSError, ValueError):
            pass  # the VM is between boots: the press is lost, as during a board's reset

    # -- the board's controls -------------------------------------------------------------
    def press(self):
        """Press the button."""
        self._send({"cmd": "press"})

    def heap(self, timeout=10):
        """The VM's heap in use and free now, as {"alloc": bytes, "free": bytes}."""
        with self._booted:
            self._replies.pop("heap", None)
        self._send({"cmd": "heap"})
        with self._booted:
            if not self._booted.wait_for(lambda: "heap" in self._replies, timeout):
                raise TimeoutError("the virtual board did not report its heap")
            event = self._replies.pop("heap")
        return {"alloc": event["alloc"], "free": event["free"]}


def erase(directory):
    """Forget a virtual board: its flash and its clock."""
    shutil.rmtree(directory, ignore_errors=True)
