"""The board models served to the real firmware running inside the MicroPython unix port.

A ``Fob`` (simulator/fobsim/models/fob.py) boots its firmware through an engine.  This one
boots the flash image as `fob flash` installs it (.mpy files and micropython-lib's ssd1306 on
littlefs) in the unix port at a fixed heap; the port's ``machine`` (and ``esp32``) there is
tools/mpvm/machinelink.py, which forwards every call here, to the same models the CPython runs
use.  Each boot is one VM process: a reset, a power loss or the end of the scenario kills it at
once (a chip runs no ``finally`` block), and the Fob boots the image again as its models say.

Time: the world follows the VM's clock, the boot's real elapsed time plus the idle time skipped.
With ``skip_idle`` (board-model scenarios), when the firmware idles (asyncio's poll,
time.sleep_ms) or sleeps (lightsleep, deepsleep) the models jump ahead to the timeout or the
next event, and the VM's ticks_ms gains the same jump; ``time`` and ``select`` are forwarded
too.  Without it (the fixed-heap runs, served over a real pty), the VM keeps its own ``time``,
``select`` and C asyncio, and the world is paced to real time.
"""

import os
import select
import shutil
import subprocess
import threading
import time
from pathlib import Path

from fobsim.models import ports, scheduler
from fobsim.models.world import ScenarioEnd
from mpvm import make_image, unix_command

EXIT_SOFT_RESET = 64  # tools/mpvm/unixport.py
SILENCE_SECONDS = 60  # a VM that sends no request for this long has stopped (e.g. at a prompt)


class VMStopped(AssertionError):
    """The VM ended, or stopped talking, without the models resetting it."""


class _Callable:
    """An IRQ handler the VM passed (it stays in the VM; the models get a stand-in)."""


class MicroPythonEngine:
    """Boots ``firmware`` (a board's flash tree) inside the unix port for a Fob; see the module docstring."""

    def __init__(self, firmware, heapsize, skip_idle=True, serial=None):
        self.firmware = Path(firmware)
        self.heapsize = heapsize
        self.skip_idle = skip_idle
        self.serial = serial  # the fd of the USB serial line (a pty), or None: nobody on it
        self.image = None
        self.process = None
        self.output = b""  # what the VMs wrote to the console (without a serial fd)
        self.stopped = False
        self._starting = threading.Lock()  # stop() and a boot's start never cross: no VM outlives stop()

    def _make_image(self, fob):
        root = Path(fob.flash.root)
        staging = root.with_name(root.name + ".staging")
        shutil.copytree(self.firmware, staging)
        shutil.copytree(root, staging, dirs_exist_ok=True)  # what the test put on the flash (/data)
        self.image = root.with_name(root.name + ".lfs")
        make_image(self.image, [(staging, "/")])
        shutil.rmtree(staging)

    def stop(self):
        """End the scenario (from another thread): the VM is killed, the Fob's run ends."""
        with self._starting:
            self.stopped = True
            if self.process is not None and self.process.poll() is None:
                self.process.kill()

    def run(self, fob):
        """One boot of ``fob``: until the models reset it, cut its power or end the scenario."""
        if self.image is None:
            self._make_image(fob)
        modules = "machine,esp32" if fob.port == "esp32" else "machine"
        mode = "skip" if self.skip_idle else "real"
        console = self.serial if self.serial is not None else subprocess.PIPE
        with self._starting:
            if self.stopped:
                raise ScenarioEnd()
            requests_r, requests_w = os.pipe()
            answers_r, answers_w = os.pipe()
            command = unix_command(self.heapsize, "boot", self.image, answers_r, requests_w, modules, mode)
            self.process = subprocess.Popen(
                command,
                stdin=console,
                stdout=console if self.serial is not None else subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(requests_w, answers_r),
                cwd=self.image.parent,
            )
        os.close(requests_w)
        os.close(answers_r)
        link = _Link(fob, self.skip_idle)
        try:
            with os.fdopen(requests_r, "rb") as requests, os.fdopen(answers_w, "wb", buffering=0) as answers:
                while True:
                    if not select.select([requests], [], [], SILENCE_SECONDS)[0]:
                        raise VMStopped("the VM sent nothing for %d s" % SILENCE_SECONDS)
                    request = link.read(requests)
                    if request is None:
                        break
                    answers.write(link.answer(*request))
        except scheduler.Interrupt:
            if self.stopped:
                raise ScenarioEnd() from None
            raise
        except BrokenPipeError:
            pass  # the VM ended while its answer was on the way
        finally:
            self._end()
        if self.stopped:
            raise ScenarioEnd()
        if self.process.returncode == EXIT_SOFT_RESET:  # SystemExit out of main.py: pyexec's soft reset
            raise ports.Reset(ports.SOFT_RESET)
        raise VMStopped("the VM ended by itself (exit %s):\n%s" % (self.process.returncode, self.output[-2000:]))

    def _end(self):
        if self.process.poll() is None:
            self.process.kill()
        if self.serial is None:
            self.output += self.process.stdout.read()
            self.process.stdout.close()
            self.process.stdin.close()
        self.process.wait()


class _Link:
    """One boot's requests from machinelink, answered from the models."""

    def __init__(self, fob, skip_idle):
        self.fob = fob
        self.world = fob.world
        models = fob._models()
        self.modules = {name: models[name] for name in ("machine", "esp32", "time") if name in models}
        self.modules["select"] = self
        self.skip_idle = skip_idle
        self.objects = {}
        self.irqs = []
        self.skipped = 0.0  # virtual seconds the models jumped ahead of the VM's real clock
        self.started = (time.monotonic(), self.world.now)
        if not skip_idle:
            self.world.pace = self._pace

    def _pace(self, target):
        real, virtual = self.started
        time.sleep(max(0.0, target - virtual - (time.monotonic() - real)))
        return True

    # -- requests ------------------------------------------------------------------
    def read(self, stream):
        """(target, name, args, kwargs) of the next request, or None at the end of the stream."""
        head = stream.readline()
        if not head:
            return None
        target, name, rest = head.split(b";", 2)
        stream = _Rest(rest, stream)
        args, kwargs = [], {}
        while True:
            value = self._value(stream)
            if value is _END:
                break
            if isinstance(value, _Keyword):
                kwargs[value.name] = self._value(stream)
            else:
                args.append(value)
        return target.decode().strip(), name.decode(), args, kwargs

    def _value(self, stream):
        tag = stream.read(1)
        if tag in (b"\n", b")"):
            return _END
        if tag == b"N":
            return None
        if tag == b"?":
            return _Callable()
        if tag in (b"i", b"@"):
            number = int(stream.until(b";"))
            return number if tag == b"i" else self.objects[number]
        if tag in (b"s", b"b"):
            data = stream.read(int(stream.until(b":")))
            return data.decode() if tag == b"s" else data
        if tag == b"k":
            return _Keyword(stream.until(b"=").decode())
        if tag == b"(":
            items = []
            while (item := self._value(stream)) is not _END:
                items.append(item)
            return tuple(items)
        raise VMStopped("machinelink sent %r then %r" % (tag, stream.buffer))

    # -- answers -------------------------------------------------------------------
    def answer(self, target, name, args, kwargs):
        real, virtual = self.started
        self.world.advance_to(virtual + time.monotonic() - real + self.skipped)  # the VM's clock, events due
        before = self.world.now
        try:
            value = self._call(target, name, args, kwargs)
            kind, body = self._encode(value)
        except OSError as error:  # scheduler.Interrupt (a BaseException) passes through
            kind, body = "e", str(error.errno if error.errno is not None else error.args[0])  # OSError(EIO)
        except Exception as error:  # noqa: BLE001 -- raised again in the VM, as the port would
            kind, body = "x", "%s:%s" % (type(error).__name__, error)
        if self.skip_idle:
            self.skipped += self.world.now - before
        irqs, self.irqs[:] = ",".join(map(str, self.irqs)), []
        return ("%s|%d|%s%s\n" % (irqs, self.skipped * 1000, kind, body)).encode()

    def _call(self, target, name, args, kwargs):
        owner = self.objects[int(target)] if target.isdigit() else self.modules[target]
        if name == "__ints__":
            owner = getattr(owner, args[0]) if args else owner
            return ",".join("%s=%d" % (k, v) for k, v in vars(owner).items() if type(v) in (int, bool) and k[0] != "_")
        if name == "irq" and args and isinstance(args[0], _Callable):
            handle = int(target)
            args[0] = lambda pin: self.irqs.append(handle)
        return getattr(owner, name)(*args, **kwargs)

    def _encode(self, value):
        if value is None:
            return "N", ""
        if isinstance(value, (bool, int)):
            return "i", str(int(value))
        if isinstance(value, (bytes, bytearray)):
            return "b", bytes(value).hex()
        if isinstance(value, str):
            return "s", value
        if isinstance(value, (tuple, list)):
            return ("t" if isinstance(value, tuple) else "l"), ",".join(str(int(v)) for v in value)
        handle = len(self.objects) + 1
        self.objects[handle] = value
        return "h", str(handle)

    def idle(self, timeout_ms):
        """select.poll with nothing ready: the idle time passes in the models, to the timeout or an IRQ."""
        ledger = self.world.ledger
        ledger.set("mcu", "idle")
        until = None if timeout_ms < 0 else self.world.now + timeout_ms / 1000
        self.world.advance_to(until, stop=lambda: bool(self.irqs))
        ledger.set("mcu", "run")


class _Keyword:
    def __init__(self, name):
        self.name = name


_END = object()


class _Rest:
    """The rest of a request: the bytes after its head line was read, then the stream."""

    def __init__(self, rest, stream):
        self.buffer = bytearray(rest)
        self.stream = stream

    def _more(self):
        more = self.stream.readline()
        if not more:
            raise VMStopped("a request was cut off")
        self.buffer += more

    def read(self, n):
        while len(self.buffer) < n:
            self._more()
        data, self.buffer[:n] = bytes(self.buffer[:n]), b""
        return data

    def until(self, stop):
        while stop not in self.buffer:
            self._more()
        data, _, rest = bytes(self.buffer).partition(stop)
        self.buffer[:] = rest
        return data
