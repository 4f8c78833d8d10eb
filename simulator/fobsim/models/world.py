"""Virtual time, the things that happen in it (button edges, power), and the charge each state draws.

Nothing sleeps: time moves when the firmware waits or sleeps, straight to
the next thing that happens.  ``Ledger`` adds up the time spent in each
power state (MCU, display, RTC...) so the energy of a scenario is the sum
of the profile's currents over those times.
"""

import heapq

from fobsim.models.scheduler import Interrupt


class ScenarioEnd(Interrupt):
    """The scenario's time is up: raised out of whatever the firmware was waiting for."""


class Hang(Interrupt):
    """The firmware waits for something that can never come (e.g. a sleep no source can wake)."""


class Ledger:
    """Seconds spent in each (part, state), e.g. ("mcu", "dormant") or ("display", "on")."""

    def __init__(self, world):
        self.world = world
        self.seconds = {}
        self.states = {}  # part -> (state, since)
        self.history = []  # (time, part, state) of every change
        self.low_clock = False  # the MCU runs at its lowered clock: "run" and "idle" count as "run_low"...
        self._mcu = None

    def set_clock(self, low):
        """The MCU's clock was lowered (True) or restored: its running states draw another current."""
        self.low_clock = low
        if self._mcu is not None:
            self.set("mcu", self._mcu)

    def set(self, part, state):
        if part == "mcu":
            self._mcu = state
            if self.low_clock and state in ("run", "idle"):
                state += "_low"
        now = self.world.now
        old = self.states.get(part)
        if old is not None:
            key = (part, old[0])
            self.seconds[key] = self.seconds.get(key, 0.0) + now - old[1]
        self.states[part] = (state, now)
        self.history.append((now, part, state))

    def state(self, part):
        old = self.states.get(part)
        return None if old is None else old[0]

    def totals(self):
        """Seconds per (part, state) up to now, the current states included."""
        totals = dict(self.seconds)
        for part, (state, since) in self.states.items():
            totals[(part, state)] = totals.get((part, state), 0.0) + self.world.now - since
        return totals


class World:
    """Virtual seconds since the scenario began, the true UTC time, and a timeline of events."""

    def __init__(self, utc_start, end=None):
        self.now = 0.0
        self.utc_start = utc_start
        self.end = end  # ScenarioEnd when time reaches it
        self.ledger = Ledger(self)
        self._timeline = []  # (time, order, action)
        self._order = 0
        self.on_stop = None  # on_stop(interrupt) stops the firmware where it is, if it runs on this thread
        self.pace = None  # pace(target): wait for real time to reach ``target``; False if an event came first

    def stop(self, interrupt):
        """The chip stops (a reset, a power cut, the scenario's end): the firmware runs no further, none of
        its except or finally clauses; whoever runs the firmware gets ``interrupt`` (Fob._on_chip)."""
        if self.on_stop is not None:
            self.on_stop(interrupt)
        raise interrupt

    def utc(self):
        return self.utc_start + self.now

    def at(self, seconds, action):
        """Call ``action()`` when virtual time reaches ``seconds``."""
        heapq.heappush(self._timeline, (seconds, self._order, action))
        self._order += 1

    def next_event(self):
        return self._timeline[0][0] if self._timeline else None

    def advance_to(self, until, stop=None):
        """Let time pass to ``until`` (None: no limit), running the events due on the way.

        Returns True as soon as ``stop()`` is true after an event, False on reaching ``until``."""
        while True:
            due = self.next_event()
            event = due is not None and (until is None or due <= until)
            if event:
                target = due
            elif until is not None:
                target = until
            elif self.end is not None:
                target = self.end  # waiting for good: the scenario ends first
            else:
                self.stop(Hang("the firmware waits for something that nothing will ever do"))
            if self.pace is not None and target > self.now and not self.pace(min(target, self.end or target)):
                continue  # something was scheduled meanwhile (a press): look again
            if self.end is not None and target >= self.end:
                self.now = max(self.now, self.end)
                self.stop(ScenarioEnd())
            self.now = max(self.now, target)
            if event:
                heapq.heappop(self._timeline)[2]()
                if stop is not None and stop():
                    return True
            else:
                return False

    def advance(self, seconds, stop=None):
        return self.advance_to(self.now + seconds, stop)
