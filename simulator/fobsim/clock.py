"""The simulated fob's clock: a battery-backed RTC that can be skewed, drift and run fast.

The fob's time is an anchor pair (host time, fob time) advanced at
``(1 + drift_ppm / 1e6) * speed`` fob seconds per host second.  The anchor
and the drift are saved with the token, so after a restart the clock goes
on as if the RTC had kept running while the simulator was closed.  Speed is
a property of one run, not of the fob, and is not saved.
"""

import json
import math
import os
import time

MAX_DRIFT_PPM = 1_000_000.0  # either way: twice as fast, or as slow as any rate above standing still
MAX_SPEED = 10_000.0


class VirtualClock:
    """Fob time in Unix seconds (float), derived from the host's clock."""

    def __init__(self, drift_ppm=0.0, speed=1.0, host_time=time.time):
        if not 0 < speed <= MAX_SPEED:  # also refuses NaN
            raise ValueError("speed must be above 0 and at most %g" % MAX_SPEED)
        self.drift_ppm = checked_drift(drift_ppm)
        self.speed = float(speed)
        self._host_time = host_time
        self._anchor_host = None
        self._anchor_fob = None

    @property
    def is_set(self):
        return self._anchor_host is not None

    @property
    def rate(self):
        """Fob seconds per host second."""
        return (1.0 + self.drift_ppm / 1e6) * self.speed

    def now(self):
        """The fob's time, or None while the clock was never set."""
        if self._anchor_host is None:
            return None
        return self._anchor_fob + (self._host_time() - self._anchor_host) * self.rate

    def set(self, fob_time):
        """Set the fob's time now (what SET-TIME and a board's RTC write do)."""
        if not math.isfinite(fob_time):
            raise ValueError("the fob's time must be a finite number")
        self._anchor_host = self._host_time()
        self._anchor_fob = float(fob_time)

    def lose(self):
        """The backup cell went flat: the clock no longer knows the time (until set again)."""
        self._anchor_host = self._anchor_fob = None

    def skew(self, offset):
        """Start (or restart) the clock at host time plus ``offset`` seconds."""
        self.set(self._host_time() + offset)

    def host_seconds_until(self, fob_time):
        """Host seconds until the fob's clock reads ``fob_time`` (0 when passed)."""
        now = self.now()
        if now is None:
            return None
        return max(0.0, (fob_time - now) / self.rate)

    def save(self, path):
        """Persist anchor and drift atomically (the speed is per run)."""
        if self.is_set:
            self.set(self.now())
        state = {"drift_ppm": self.drift_ppm, "anchor_host": self._anchor_host, "anchor_fob": self._anchor_fob}
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path, speed=1.0, host_time=time.time):
        """The clock saved at ``path``, or a new unset one if there is none.

        While the simulator was closed the RTC ran at its drifting rate but
        at real speed.  A damaged file is treated like a flat RTC battery:
        the clock is unset.
        """
        clock = cls(speed=speed, host_time=host_time)
        try:
            with open(path) as f:
                state = json.load(f)
            clock.drift_ppm = checked_drift(state["drift_ppm"])
            if state["anchor_host"] is not None:
                closed = host_time() - float(state["anchor_host"])
                if not math.isfinite(closed):
                    raise ValueError("anchor_host")
                clock.set(float(state["anchor_fob"]) + closed * (1.0 + clock.drift_ppm / 1e6))
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return clock


def checked_drift(ppm):
    """``ppm`` as a float if it is a drift the clock can run at, else ValueError."""
    ppm = float(ppm)
    if not -MAX_DRIFT_PPM < ppm <= MAX_DRIFT_PPM:  # also refuses NaN
        raise ValueError("drift must be above -%d and at most %d ppm" % (MAX_DRIFT_PPM, MAX_DRIFT_PPM))
    return ppm
