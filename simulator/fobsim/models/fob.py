"""A whole fob on the models: a board's chip, display, DS3231, button, USB, battery and power latch.

``Fob(board, ...)`` boots the real firmware (``main.py``, which imports the board's ``latch.py`` first)
on a ``ports.Machine``; ``run_until(t)`` lets virtual time pass with the presses scheduled by
``press_at``.  A deep sleep's wake and ``machine.reset()`` boot the image again (RAM is lost);
in the power-latch build, releasing the latch with no USB host cuts the power: the fob is off
until the button switches it on.  The firmware runs on a thread of its own, which a reset or a power
cut stops where it is for good, as a chip stops: no except or finally clause of it runs after.  Or it
runs through an ``engine`` (tests/modelvm.py: inside the MicroPython unix port, on these same models).
"""

import queue
import threading
import types

from fobcore.monofb import MONO_VLSB
from fobcore.monofb import FrameBuffer as _MonoFrameBuffer
from fobhost.flashing import BOARDS_DIR, MAIN_PY
from fobsim.models import devices, image, ports, power, scheduler, world

PORTS = {"rp2-pico-ssd1306": "rp2", "esp32c3-ssd1306": "esp32"}  # each physical board in boards/ and its port
BOARDS = tuple(PORTS)
LATCH_RC_SECONDS = 1.0  # the latch's gate RC keeps the supply on this long after a press (docs/hardware.md)


class _Serial:
    """The USB CDC stream as the firmware sees it (sys.stdin.buffer / sys.stdout.buffer)."""

    def __init__(self):
        self.incoming = bytearray()
        self.outgoing = bytearray()
        self.readable = scheduler.Event()
        self.on_write = None  # called with each write's bytes (fob sim --board sends them to its pty)

    def any(self):
        return len(self.incoming)

    def read(self, n=-1):
        n = len(self.incoming) if n < 0 else min(n, len(self.incoming))
        data, self.incoming[:] = bytes(self.incoming[:n]), self.incoming[n:]
        if not self.incoming:
            self.readable.clear()
        return data

    def write(self, data):
        self.outgoing += data
        if self.on_write is not None:
            self.on_write(bytes(data))
        return len(data)


class PowerLoss(scheduler.Interrupt):
    """The supply went away (latch released, brown-out): everything stops at once."""


def modelled_port(board):
    """The MicroPython port ``board`` is modelled on; power.ProfileError naming the modelled boards if
    it is not one (a typo, or boards/sim, which is the simulator's own)."""
    if board not in PORTS:
        raise power.ProfileError("no board model for %r (modelled: %s)" % (board, ", ".join(sorted(PORTS))))
    return PORTS[board]


class Fob:
    def __init__(
        self, board, flash_dir, utc, ds3231=True, latch=False, usb=False, rc_drift=0.0, max_boots=50, engine=None
    ):
        self.board_name = board
        self.engine = engine  # runs the firmware for a boot (``engine.run(fob)``); None: here, under CPython
        self.port = modelled_port(board)
        self.profile = power.load(board)
        self.world = world.World(utc)
        self.max_boots = max_boots  # more boots than this in one run is a boot loop
        self.machine = ports.Machine(self.world, self.port, rc_drift=rc_drift)
        self.machine.wake_seconds = self.profile.wake_seconds
        self.display = devices.SSD1306(self.world)
        self.ds3231 = devices.DS3231(self.world, present=ds3231)
        self.machine.bus.attach(self.display)
        self.machine.bus.attach(self.ds3231)
        self.flash = image.Flash(flash_dir)
        self.missing = set()  # modules left out of the image (damage)
        self.latch = latch  # the power-latch build: the button switches the supply on
        self.usb = usb
        self.powered = usb or not latch  # the latch build is off until pressed, unless USB supplies it
        self.boots = []  # (world time, reset cause) of every boot
        self.frames = []  # (world time, frame bytes) of every frame the panel received while on
        self.serial = _Serial()
        self.on_screen = None  # called with (time, frame) for every frame shown
        self.button_pin = None
        self.latch_pin = None
        self.vbus_pin = None
        self._pressed = False
        self.world.ledger.set("mcu", "off")
        self.world.ledger.set("ds3231", "battery")
        self.machine.on_output = self._output
        self._rc_until = 0.0
        self.display_watch()

    # -- what the world does -----------------------------------------------------
    def damage(self, module):
        """Leave ``module`` (e.g. "fobcore.app", "board") out of the image: a half-copied firmware."""
        self.missing.add(module)

    def set_clock(self, utc):
        """Set the DS3231 to ``utc`` now (as provisioning does), clearing its oscillator-stop flag."""
        self.ds3231._set_at = (int(utc) - 946684800, self.world.now)
        self.ds3231._stopped_at = None
        self.ds3231.regs[0x0F] &= 0x7F

    def send(self, data):
        """Bytes from the USB host arrive on the fob's serial stream."""
        self.serial.incoming += data
        self.serial.readable.set()

    def press_at(self, t, hold=0.2):
        self.world.at(t, lambda: self._button(True))
        self.world.at(t + hold, lambda: self._button(False))

    def usb_at(self, t, attached):
        """The USB cable plugged in (True) or pulled (False) at ``t``: the board senses VBUS, and in the
        latch build USB powers the board whatever the latch does."""
        self.world.at(t, lambda: self._usb(attached))

    def _usb(self, attached):
        self.usb = attached
        if attached and not self.powered:
            self.powered = True
            raise _PowerOn()
        if self.vbus_pin is not None:
            self.machine.drive(self.vbus_pin, 1 if attached else 0)
        self._supply_check()

    def reset_at(self, t):
        """The chip resets at ``t`` (machine.reset, as main.py's last resort does)."""
        self.world.at(t, lambda: self.powered and self.world.stop(ports.Reset(ports.HARD_RESET)))

    def _button(self, down):
        self._pressed = down
        if self.latch and not down:
            self._rc_until = self.world.now + LATCH_RC_SECONDS
            self.world.at(self._rc_until, self._supply_check)
        if down and not self.powered:
            self.powered = True  # the latch build: the button closes the supply
            self.world.ledger.set("mcu", "boot")
            raise _PowerOn()
        if self.button_pin is not None and self.powered:
            self.machine.drive(self.button_pin, 0 if down else None)

    def _output(self, number, level):
        if number == self.latch_pin:
            self._supply_check()

    def _supply_check(self):
        """The latch build loses its supply once nothing holds it: not the button, its RC, the hold line, USB."""
        if not self.latch or not self.powered or self.usb or self._pressed:
            return
        if self.world.now < self._rc_until or self._latch_held():
            return
        self._power_loss()

    def _latch_dropped(self):
        """After a reset that let go of the latch's hold line (rp2: watchdog_reboot resets the GPIO
        bank; an esp32 machine.reset leaves it driven, ports.Machine.boot) the gate RC alone keeps
        the supply on, until latch.py holds it again."""
        if self.latch and not self.usb and not self._latch_held():
            self._rc_until = max(self._rc_until, self.world.now + LATCH_RC_SECONDS)
            self.world.at(self._rc_until, self._supply_check)

    def _latch_held(self):
        return self.latch_pin is not None and self.machine.level(self.latch_pin) == 1

    def _power_loss(self):
        self.powered = False
        self.world.stop(PowerLoss())

    # -- the firmware ------------------------------------------------------------
    def _models(self):
        sched = scheduler.Scheduler(
            self.world, on_idle=lambda idle: self.world.ledger.set("mcu", "idle" if idle else "run")
        )
        micropython = types.ModuleType("micropython")
        micropython.const = lambda x: x
        micropython.kbd_intr = lambda c: setattr(self.machine, "kbd_intr", c)
        micropython.schedule = lambda f, a: f(a)
        framebuf = types.ModuleType("framebuf")
        framebuf.MONO_VLSB = MONO_VLSB
        framebuf.FrameBuffer = _MonoFrameBuffer
        sys_module = types.ModuleType("sys")
        sys_module.stdin = types.SimpleNamespace(buffer=self.serial)
        sys_module.stdout = types.SimpleNamespace(buffer=self.serial)
        sys_module.implementation = types.SimpleNamespace(name="micropython", version=(1, 27, 0))
        sys_module.path = ["", "/lib"]
        select = types.ModuleType("select")
        select.POLLIN = 1
        serial = self.serial

        class _Poll:
            def register(self, stream, mask=1):
                pass

            def poll(self, timeout=-1):
                return [(serial, 1)] if serial.any() else []

        select.poll = _Poll
        machine = self.machine.module()
        models = {
            "machine": machine,
            "time": self.machine.time_module(),
            "asyncio": sched.module(),
            "micropython": micropython,
            "framebuf": framebuf,
            "os": self.flash.os_module(self._power_loss),
            "sys": sys_module,
            "select": select,
        }
        if self.port == "esp32":
            models["esp32"] = self.machine.esp32_module()
        return models

    def _boot(self, cause):
        self.machine.boot(cause)
        self.boots.append((self.world.now, cause))
        if len(self.boots) > self.max_boots:
            raise BootLoop("booted %d times in %.0f s" % (len(self.boots), self.world.now))
        self.world.ledger.set("mcu", "boot")
        self.world.ledger.set("ds3231", "vcc")
        self.world.advance(self.profile.boot_seconds)
        self.world.ledger.set("mcu", "run")
        firmware = None if self.engine else image.Image(self.board_name, self._models(), self.flash, self.missing)
        board_py = BOARDS_DIR / self.board_name / "board.py"
        self.button_pin = _constant(board_py, "BUTTON")
        self.vbus_pin = _constant(board_py, "VBUS_SENSE")
        if self.vbus_pin is not None:
            self.machine.drive(self.vbus_pin, 1 if self.usb else 0)
        if self._pressed:
            self.machine.drive(self.button_pin, 0)
        latch_py = BOARDS_DIR / self.board_name / "latch.py"
        if latch_py.is_file():
            self.latch_pin = _constant(latch_py, "POWER_LATCH")  # main.py imports it first
        if self.engine is not None:  # e.g. inside MicroPython (tests/modelvm.py)
            self.engine.run(self)
            return
        firmware.run(MAIN_PY, self._on_chip)

    def _on_chip(self, run):
        """``run()`` (main.py) on a thread of its own, until it ends or the world stops the chip: then that
        thread waits for ever, never resumed (the chip's RAM is gone), and the Interrupt is raised here."""
        outcome = queue.SimpleQueue()

        def chip():
            try:
                run()
                outcome.put(None)
            except BaseException as error:  # noqa: BLE001 -- handed to the caller's thread
                outcome.put(error)

        def stop(interrupt):
            if threading.current_thread() is thread:
                outcome.put(interrupt)
                threading.Event().wait()  # stopped for good

        thread = threading.Thread(target=chip, name="%s firmware" % self.board_name, daemon=True)
        self.world.on_stop = stop
        thread.start()
        error = outcome.get()
        self.world.on_stop = None
        if error is not None:
            raise error

    def display_watch(self):
        """Record every frame the panel shows (the SSD1306 model calls back after each write)."""
        original = self.display.write

        def write(data):
            original(data)
            if data[:1] == b"\x40" and self.display.on:
                self.frames.append((self.world.now, self.display.frame()))
                if self.on_screen is not None and any(self.frames[-1][1]):
                    self.on_screen(*self.frames[-1])

        self.display.write = write

    def run_until(self, t):
        """Run the fob until virtual time ``t``: boots, sleeps, wakes and power cycles included."""
        self.world.end = t
        cause = ports.PWRON_RESET
        try:
            while True:
                if not self.powered:
                    self._off()
                    try:
                        self.world.advance_to(None)
                    except _PowerOn:
                        pass
                    self.machine.power_on()
                    cause = ports.PWRON_RESET
                try:
                    self._boot(cause)
                    raise world.Hang("main.py returned")
                except ports.Reset as reset:
                    cause = reset.cause
                    self.machine.boot(cause)  # the pins as the reset leaves them
                    self._latch_dropped()
                except PowerLoss:
                    self.powered = False
                except _PowerOn:
                    cause = ports.PWRON_RESET
        except world.ScenarioEnd:
            pass

    def _off(self):
        self.world.ledger.set("mcu", "off")
        self.world.ledger.set("display", "unpowered")
        self.world.ledger.set("ds3231", "battery")
        self.display.on = False

    def screens(self):
        """(time, frame) of every frame the panel showed, less the driver's blank one at start-up."""
        return [(t, frame) for t, frame in self.frames if any(frame)]


class BootLoop(AssertionError):
    """The fob keeps resetting (e.g. a wake source that fires at once)."""


class _PowerOn(scheduler.Interrupt):
    pass


def _constant(path, name):
    """A board file's integer constant (BUTTON = 15), read from its source without importing it."""
    import ast

    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    return None
