"""The virtual MicroPython board: the official MicroPython VM (WebAssembly, in Node) behind a pty.

``MicroPythonDevice`` owns the pty and supervises tools/mpvm/board.mjs, which runs one
boot of the board: a soft or hard reset ends that process with a status
saying how to boot the next, and a fresh one starts on the same pty (a
reset leaves a fresh heap; the pty, like a USB port, stays).  The board's
flash is a host directory, written through by the VM; its battery-backed
clock is a fobsim.clock.VirtualClock saved next to it.  Over the pty,
``mpremote``, ``fob flash --board sim`` and ``fob provision`` work as with
hardware; `fob sim --engine micropython` runs a ``MicroPythonSimulator``.
"""

import json
import os
import subprocess
import threading
import time
from pathlib import Path

from fobsim import control, screen, tokendir, vmscript
from fobsim.clock import VirtualClock
from fobsim.flashview import read_display, token_state
from fobsim.observer import Observer
from fobsim.ptyport import close_quietly, open_raw

ROOT = vmscript.CHECKOUT
BOARD_SCRIPT = vmscript.shipped_script()
HEAPSIZE = 256 * 1024  # the VM's first heap; this port grows it on demand, so a board's limit is not enforced

# Exit statuses of board.mjs, and the boot each asks for.
_NEXT_BOOT = {64: "soft", 65: "soft-raw", 66: "power"}


class MicroPythonDevice:
    """A virtual MicroPython board on a pty; ``start()`` it, then use ``port`` like a USB serial device.

    ``on_event(dict)`` receives what the board reports (frames, display power,
    boots); it runs on the supervisor thread.
    """

    def __init__(
        self,
        directory,
        clock=None,
        heapsize=HEAPSIZE,
        on_event=None,
        height=32,
        display_timeout_ms=30000,
        script=None,
        heap_watch_ms=0,
    ):
        self.directory = Path(directory)
        self.script = script  # None: BOARD_SCRIPT
        self.flash = tokendir.flash_dir(self.directory)
        self._clock_path = tokendir.clock_path(self.directory)
        self.clock = clock if clock is not None else VirtualClock.load(self._clock_path)
        self.heapsize = heapsize
        self.heap_watch_ms = heap_watch_ms  # >0: report whether the heap ever grew (board.mjs --heap-watch)
        self.height = height
        self.display_timeout_ms = display_timeout_ms
        self.on_event = on_event
        self._master, self._slave = open_raw()
        os.set_blocking(self._master, False)  # the VM polls it while Python code runs synchronously
        self.port = os.ttyname(self._slave)
        self.boots = 0
        self.last_boot = None
        self.failure = None  # why the board cannot run, once it cannot
        self._process = None
        self._lock = threading.Lock()
        self._stopping = False
        self._booted = threading.Condition()
        self._replies = {}
        self._thread = None

    # -- life -------------------------------------------------------------------------
    def start(self):
        """Power the board on; returns once the VM has booted (main.py may still be starting)."""
        self._thread = threading.Thread(target=self._supervise, name="micropython-device", daemon=True)
        self._thread.start()
        self.wait_booted(0)
        return self

    def stop(self):
        """Power off: end the VM, close the port."""
        with self._lock:
            self._stopping = True
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
        close_quietly(self._master, self._slave)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait_booted(self, boots, timeout=30, kind=None):
        """Wait until the board has booted more than ``boots`` times in all, the last one of ``kind``.

        Kinds: "power" (power-on, machine.reset()), "soft" and "soft-raw" (Ctrl-D)."""

        def booted():
            return self._stopping or self.failure or (self.boots > boots and kind in (None, self.last_boot))

        with self._booted:
            if not self._booted.wait_for(booted, timeout):
                raise TimeoutError("the virtual board did not boot within %s s" % timeout)
            if self.failure:
                raise RuntimeError(self.failure)

    def _command(self, boot):
        now = self.clock.now()
        script = self.script or BOARD_SCRIPT
        command = ["node", str(script), "--serial-fd", str(self._master), "--flash", str(self.flash)]
        command += ["--boot", boot, "--heapsize", str(self.heapsize), "--height", str(self.height)]
        command += ["--display-timeout-ms", str(self.display_timeout_ms)]
        if self.heap_watch_ms:
            command += ["--heap-watch", str(self.heap_watch_ms)]
        if now is not None:
            command += ["--clock", "%r:%r:%r" % (time.time(), now, self.clock.rate)]
        return command

    def _supervise(self):
        boot = "power"
        while True:
            boots = self.boots
            with self._lock:
                if self._stopping:
                    break
                try:
                    self._process = process = subprocess.Popen(
                        self._command(boot),
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        pass_fds=(self._master,),
                        cwd=Path(self.script or BOARD_SCRIPT).parent,
                        text=True,
                        bufsize=1,
                    )
                except OSError as e:
                    self.failure = "cannot start the MicroPython VM (node): %s" % e
                    break
            for line in process.stdout:
                self._dispatch(line)
            status = process.wait()
            if self.boots == boots and not self._stopping:  # it never booted: restarting would loop
                self.failure = "the MicroPython VM exited with status %s before booting" % status
                break
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
                self.last_boot = event["boot"]
                self._booted.notify_all()
        elif kind == "clock":
            self.clock.set(event["fob"], event["host"])  # as of the VM's own moment, not this thread's
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

    @property
    def pid(self):
        """The process id of the VM now running (it changes at every reset)."""
        with self._lock:
            return None if self._process is None else self._process.pid

    # -- the board's controls -------------------------------------------------------------
    def press(self, hold_ms=0):
        """Press the button, held ``hold_ms``."""
        self._send({"cmd": "press", "ms": hold_ms})

    def heap(self, timeout=10):
        """The VM's heap now: {"alloc": in use, "live": in use after a collection, "free": bytes, "total": its size,
        "grown": whether this boot added a heap area (None unless ``heap_watch_ms``)}.

        This port grows its heap on demand, so "free" and "total" are not a board's."""
        deadline = time.monotonic() + timeout
        with self._booted:
            self._replies.pop("heap", None)
            while "heap" not in self._replies:  # asked again each second: a reset loses the question
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the virtual board did not report its heap")
                self._send({"cmd": "heap"})
                self._booted.wait_for(lambda: "heap" in self._replies, min(1.0, remaining))
            event = self._replies.pop("heap")
        return {key: event[key] for key in ("alloc", "live", "free", "total", "grown")}


class MicroPythonSimulator:
    """`fob sim --engine micropython`: a MicroPythonDevice reported through the same Observer as the CPython engine.

    States are read from the flash the VM writes; a "code" event is emitted
    only when the VM's frame equals CPython's rendering of that code, for
    the second the firmware read its clock for it.
    """

    def __init__(self, directory, name="fob", blank=False, offset=None, drift_ppm=None, events=None, views=(), **board):
        self.directory = Path(directory)
        self.name = name
        if blank:
            tokendir.erase(self.directory)
        script = vmscript.runnable_script()  # before anything is reported: MissingNode says how to get it
        clock = tokendir.open_clock(self.directory, offset, drift_ppm)
        self.vm = MicroPythonDevice(self.directory, clock=clock, on_event=self._on_event, script=script, **board)
        self.width, self.height = 128, self.vm.height
        self.port = self.port_path = self.vm.port
        self.observer = Observer(name, self.port, "micropython", self.vm.clock.now, events, views)
        self.views = self.observer.views
        self._presses = 0  # sent to the VM, not yet seen drawn
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    # -- life ---------------------------------------------------------------------------
    async def run(self):
        """Power the board on and serve until stop()."""
        import asyncio

        loop = asyncio.get_running_loop()
        self.observer.ready(*token_state(self.vm.flash, self.vm.clock.now()))
        await loop.run_in_executor(None, self.vm.start)
        try:
            self._state_may_have_changed()
            await loop.run_in_executor(None, self._stopped.wait)
        finally:
            await loop.run_in_executor(None, self.vm.stop)

    def stop(self):
        """End run(); safe to call from any thread."""
        self._stopped.set()

    def press(self, hold_ms=0):
        """Press the button (held ``hold_ms``); safe to call from any thread."""
        with self._lock:
            self._presses += 1
        self.vm.press(hold_ms)

    def control(self, line):
        """The control channel (fobsim.control): the VM takes presses; the rest is the CPython engine's."""
        try:
            command = control.parse(line)
        except control.ControlError as error:
            self.observer.emit("error", error=str(error))
            return
        if command["cmd"] in ("press", "long-press"):
            self.press(command.get("ms", 0))
        else:
            self.observer.emit("error", error="%s: not available under --engine micropython" % command["cmd"])

    # -- what the VM reports (on its supervisor thread) ----------------------------------------
    def _on_event(self, event):
        kind = event["event"]
        if kind == "power":
            self.observer.display(event["on"])
            if not event["on"]:
                self.observer.frame(screen.pixel_rows(bytes(self.width * self.height // 8), self.width, self.height))
        elif kind == "frame":
            self._frame(bytes.fromhex(event["data"]), event.get("fob"))
        elif kind == "booted":
            self.observer.display(False)  # a reset switches the panel off: every "on" gets its "off"
            with self._lock:
                self._presses = 0  # presses not yet handled are lost with the reset, as on a board
            self._state_may_have_changed()
        elif kind == "flash":
            self._state_may_have_changed()

    def _frame(self, frame, drawn_at):
        """``drawn_at``: the fob time the firmware read for this frame (None from an older board script)."""
        if self.observer.display_on:
            self.observer.frame(screen.pixel_rows(frame, self.width, self.height))
        now = drawn_at if drawn_at is not None else self.vm.clock.now()
        view = None if now is None else read_display(frame, self.vm.flash, now, self.width, self.height)
        self.observer.shown(view, now)
        with self._lock:
            pressed, self._presses = self._presses > 0, max(self._presses - 1, 0)
        if pressed:
            self.observer.pressed(view, now)
        self._state_may_have_changed()

    def _state_may_have_changed(self):
        self.observer.state_is(*token_state(self.vm.flash, self.vm.clock.now()))

    def status_line(self):
        return self.observer.status_line()
