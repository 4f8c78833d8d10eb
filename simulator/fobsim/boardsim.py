"""`fob sim --board NAME`: a simulated token on a board's model, in (scaled) real time, with its battery.

The real board file, drivers, ssd1306 and main.py run on fobsim.models; the
token's flash is the simulator's token directory, so a token provisioned in
the ordinary simulator can be carried on a board model.  The battery level
is the documented cell less the charge the models account.  A newline on
standard input (or ``press()``) presses the button.
"""

import queue
import time

from fobsim import screen, tokendir
from fobsim.models import fob as models
from fobsim.models import power


class BoardSim:
    def __init__(self, board, directory, variant="plain", speed=1.0, offset=0.0, events=None, views=()):
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

    def press(self):
        """A button press (any thread)."""
        self.presses.put(None)

    def stop(self):
        self._stopped = True
        self.presses.put(None)

    def battery(self):
        """Percent of the cell left after what the models drew so far."""
        drawn = self.profile.charge_uas(self.fob.world.ledger.totals(), self.spec["latch"]) / 3.6e6
        return max(0.0, 100.0 * (1 - drawn / self.spec["cell"]["mah"]))

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
                self.presses.get()  # asleep with only the button to wake it
            else:
                self.presses.get(timeout=max(0.0, wait))
        except queue.Empty:
            return True
        if self._stopped:
            self.fob.world.end = self.fob.world.now
            return False
        self.fob.press_at(self.fob.world.now)
        return False

    def _screen(self, t, frame):
        rows = screen.pixel_rows(frame, 128, len(frame) * 8 // 128)
        for view in self.views:
            view.post_frame(rows)
            view.post_status(self.status_line())
        if self.events is not None:
            self.events.emit("frame", time=int(self.fob.world.utc_start + t), battery=round(self.battery(), 4))

    def run(self, seconds=None):
        """Run until ``stop()`` (or ``seconds`` of fob time)."""
        self.fob.run_until(float("inf") if seconds is None else seconds)
