"""`fob sim --board NAME`: a simulated token on a board's model, in (scaled) real time, with its battery.

The real board file, drivers, ssd1306 and main.py run on fobsim.models; the
token's flash is the simulator's token directory, so a token provisioned in
the ordinary simulator can be carried on a board model.  Its USB serial port
is a pty (fobsim.usbpty): while a host program holds it open the cable is in,
the board senses VBUS and answers `fob provision`/`fob info`, and the cell is
not drawn on.  The battery level is the documented cell less the charge the
models account while on battery.  A newline on standard input (or
``press()``) presses the button.
"""

import queue
import threading
import time

from fobsim import screen, tokendir
from fobsim.models import fob as models
from fobsim.models import power
from fobsim.usbpty import UsbPty


class BoardSim:
    def __init__(self, board, directory, variant="plain", speed=1.0, offset=0.0, events=None, views=()):
        models.modelled_port(board)  # ProfileError before anything else for a board with no model
        profile = power.load(board)  # ProfileError for a missing or malformed profile
        if variant not in profile.variants:
            builds = ", ".join(profile.variants)
            raise power.ProfileError("%s has no %r build (builds: %s)" % (profile.path, variant, builds))
        self.spec = profile.variants[variant]
        self.profile = profile
        self.speed = speed
        self.events = events
        self.views = list(views)
        self.presses = queue.Queue()
        utc = int(time.time() + (offset or 0.0))
        self.fob = models.Fob(board, tokendir.flash_dir(directory), utc=utc, latch=self.spec["latch"])
        self.fob.set_clock(utc)
        self.fob.world.pace = self._pace
        self.fob.on_screen = self._screen
        self._started = None
        self._stopped = False
        self._battery_uas = 0.0  # drawn from the cell before the last time USB came or went
        self._mark_uas = 0.0
        self.port = UsbPty()
        self.port_path = self.port.path
        self.fob.serial.on_write = self.port.write

    def _usb(self, attached):
        """A host opened (True) or closed the port (any thread): the cable goes in or out now."""
        self.presses.put(("usb", attached))

    def _data(self, data):
        self.presses.put(("data", data))

    def press(self):
        """A button press (any thread)."""
        self.presses.put(None)

    def stop(self):
        self._stopped = True
        self.presses.put(None)

    def _charge_uas(self):
        return self.profile.charge_uas(self.fob.world.ledger.totals(), self.spec["latch"])

    def _plug(self, attached):
        """Account the cell's charge up to now, then put the cable in or take it out."""
        now = self._charge_uas()
        if not self.fob.usb:
            self._battery_uas += now - self._mark_uas
        self._mark_uas = now
        self.fob.usb_at(self.fob.world.now, attached)
        if self.events is not None:
            self.events.emit("usb", plugged=attached, port=self.port_path)

    def battery(self):
        """Percent of the cell left after what the models drew from it so far (not while on USB)."""
        drawn = self._battery_uas + (0.0 if self.fob.usb else self._charge_uas() - self._mark_uas)
        return max(0.0, 100.0 * (1 - drawn / 3.6e6 / self.spec["cell"]["mah"]))

    def status_line(self):
        ledger = self.fob.world.ledger
        return "battery %.4f %% | mcu %s | display %s" % (self.battery(), ledger.state("mcu"), ledger.state("display"))

    def _pace(self, target):
        """Let real time catch up with virtual ``target``; False if a press came first (the world looks again)."""
        if self._started is None:
            self._started = (time.monotonic(), self.fob.world.now)
        real, virtual = self._started
        wait = (target - virtual) / self.speed - (time.monotonic() - real)
        try:
            if wait == float("inf"):
                item = self.presses.get()  # asleep with only the button (or a host) to wake it
            else:
                item = self.presses.get(timeout=max(0.0, wait))
        except queue.Empty:
            return True
        if self._stopped:
            self.fob.world.end = self.fob.world.now
            return False
        now = self.fob.world.now
        if item is None:
            self.fob.press_at(now)
        elif item[0] == "usb":
            self.fob.world.at(now, lambda: self._plug(item[1]))
        else:
            self.fob.world.at(now, lambda: self.fob.send(item[1]) if self.fob.usb else None)
        return False

    def _screen(self, t, frame):
        rows = screen.pixel_rows(frame, 128, len(frame) * 8 // 128)
        for view in self.views:
            view.post_frame(rows)
            view.post_status(self.status_line())
        if self.events is not None:
            self.events.emit("frame", time=int(self.fob.world.utc_start + t), battery=round(self.battery(), 4))

    def run(self, seconds=None):
        """Run until ``stop()`` (or ``seconds`` of fob time); the port goes with it."""
        watcher = threading.Thread(target=self.port.watch, args=(self._usb, self._data), name="usb", daemon=True)
        watcher.start()
        try:
            self.fob.run_until(float("inf") if seconds is None else seconds)
        finally:
            self.port.close()
            watcher.join(timeout=1)
