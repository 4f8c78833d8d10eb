"""One simulated fob: the firmware's own App on a VirtualBoard, with its token directory.

A token directory holds ``flash/`` (the board's storage: the seed record,
written by the firmware's own record code) and ``clock.json`` (the RTC).
"""

import asyncio
import hmac
import sys
from pathlib import Path

import platformdirs

from fobcore import mainloop
from fobcore.app import DISPLAY_TIMEOUT_MS, App
from fobcore.token import BLANK
from fobhost import outfile
from fobsim import control, screen, tokendir
from fobsim.board import VirtualBoard
from fobsim.observer import Observer
from fobsim.ptyport import PtyPort, Unplugged

# The demo fob's seed is public (it is printed): never use it for anything real.
DEMO_SEED = b"fobkit-demo-seed-20b"
DEMO_SERIAL = "9900000017"
DEMO_YEARS = 5


def default_root():
    """Where simulated tokens live: the user's data directory, as XDG defines it."""
    return Path(platformdirs.user_data_dir("fobkit", appauthor=False)) / "sim"


class ObservedApp(App):
    """The firmware's App, unchanged, reporting what it draws, shows on a press and serves to the simulator."""

    def __init__(self, board, observer, display_timeout_ms):
        self._observer = observer
        super().__init__(board, display_timeout_ms=display_timeout_ms)

    def view(self):
        view = super().view()
        self._view_time = self.board.last_time  # the token read the clock once for the code, just now
        return view

    def draw(self, view):
        super().draw(view)
        self._observer.drawn(view, self._view_time)

    def press(self):
        super().press()
        self._observer.pressed(self.shown, self._view_time)

    def receive(self, data):
        super().receive(data)
        self._observer.state_may_have_changed()


class Simulator:
    """A simulated fob.  ``run()`` serves it until ``stop()``; the callbacks report what it shows."""

    def __init__(
        self,
        directory,
        name="fob",
        blank=False,
        offset=None,
        drift_ppm=None,
        speed=1.0,
        events=None,
        views=(),
        screenshot=None,
        height=32,
        display_timeout_ms=DISPLAY_TIMEOUT_MS,
    ):
        self.directory = Path(directory)
        self.name = name
        self.screenshot = screenshot
        if blank:
            tokendir.erase(self.directory)
        flash = tokendir.flash_dir(self.directory)
        clock = tokendir.open_clock(self.directory, offset, drift_ppm, speed)
        self.clock = clock
        self.port = PtyPort()
        self.port_path = self.port.path
        self.board = VirtualBoard(
            flash / "data",
            clock,
            self.port,
            on_frame=self._frame,
            on_clock_set=self.save_clock,
            height=height,
            token_name=name,
        )
        self.width, self.height = self.board.width, self.board.height
        self.observer = Observer(name, self.port.path, "cpython", self.board.time, events, views)
        self.views = self.observer.views
        self._display_timeout_ms = display_timeout_ms
        self._power_on()
        self._loop = None
        self._cut = None
        self._task = None

    # -- life ---------------------------------------------------------------------
    def provision_demo(self):
        """Give a blank fob the public demo seed (unsealed, so `fob provision` can replace it).

        Returns True if the fob holds the demo seed, False if it holds another.
        """
        if self.token.state == BLANK:
            now = self.board.time()
            self.token.provision(DEMO_SEED, "sha1", 6, 60, DEMO_SERIAL, now + DEMO_YEARS * 365 * 86400 + 86400)
        record = self.token.record
        return record is not None and hmac.compare_digest(record.seed, DEMO_SEED)

    def _power_on(self):
        """The firmware starts afresh from what the flash holds (at start, and after a power cut)."""
        self.app = ObservedApp(self.board, self, self._display_timeout_ms)
        self.token = self.app.token

    async def run(self):
        self._loop = asyncio.get_running_loop()
        self.port.start(self._loop)
        self.observer.ready(self.token.state, self.token.serial)
        try:
            while True:
                self._task = asyncio.ensure_future(mainloop.serve(self.app))
                try:
                    await self._task
                except (asyncio.CancelledError, control.PowerCut):
                    if self._cut is None:
                        break
                point, self._cut = self._cut, None
                self.board.display_power(False)
                self.observer.emit("power", cut=point)
                self._power_on()
        finally:
            self.save_clock()
            self.port.close(self._loop)

    def stop(self):
        """End run(); safe to call from any thread."""
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)

    def press(self):
        """Press the button; safe to call from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.board.press)

    def control(self, line):
        """One line of the control channel (fobsim.control); safe to call from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._control, line)

    def _control(self, line):
        try:
            control.apply(self, control.parse(line))
        except control.ControlError as error:
            self.observer.emit("error", error=str(error))

    def unplug(self):
        """USB out: the pty goes away, as the host sees a fob unplugged; the fob runs on."""
        if isinstance(self.board.port, Unplugged):
            raise control.ControlError("unplug: USB is not plugged in")
        self.port.close(self._loop)
        self.board.port = Unplugged(self._loop)
        self.observer.emit("usb", plugged=False)

    def plug(self):
        """USB in again: a new pty (a new path, as a replugged board may get)."""
        unplugged = self.board.port
        if not isinstance(unplugged, Unplugged):
            raise control.ControlError("plug: USB is plugged in already")
        self.port = PtyPort()
        self.port.start(self._loop)
        self.board.port = self.port
        self.port_path = self.observer.port = self.port.path
        unplugged.plug()
        self.observer.emit("usb", plugged=True, port=self.port.path)

    def _power_cut(self, point):
        """Called by the firmware's file operations at the armed point: end this boot."""
        self._cut = point
        self._task.cancel()

    def save_clock(self):
        self.clock.save(tokendir.clock_path(self.directory))

    # -- what the app does, told to the observer ------------------------------------------
    def _frame(self, rows):
        self.observer.display(self.board.display_on)
        self.observer.frame(rows)
        if self.screenshot:
            self._save_screenshot(rows)

    def _save_screenshot(self, rows):
        """Replace the screenshot `fob sim` checked at start; stop (saying so) if it became something else."""
        try:
            outfile.write(self.screenshot, screen.png_bytes(rows), force=True, private=False, durable=False)
        except outfile.OutputError as error:
            print("fob sim: screenshots stopped: %s" % error, file=sys.stderr)
            self.screenshot = None

    def drawn(self, view, view_time):
        self.observer.shown(view, view_time)
        self.state_may_have_changed()

    def pressed(self, view, view_time):
        self.observer.pressed(view, view_time)

    def state_may_have_changed(self):
        self.observer.state_is(self.token.state, self.token.serial)

    def status_line(self):
        return self.observer.status_line()
