"""The control channel: JSON lines on the headless simulator's standard input, for scripts and tests.

An empty line presses the button, as a person at the terminal does.  A
JSON object is a command (docs/simulator.md lists them); a line that is
neither, or a command the engine cannot do, gives an ``error`` event and
the simulator goes on.
"""

import json
import math

from fobcore.record import Files
from fobsim.clock import checked_drift

CUT_POINTS = ("write", "rename", "renamed")
# command: {field: (type, required)}
COMMANDS = {
    "press": {},
    "long-press": {"ms": (int, True)},
    "clock": {"jump": (float, False), "drift_ppm": (float, False)},
    "rtc-flat": {},
    "unplug": {},
    "plug": {},
    "power-cut": {"at": (str, True), "bytes": (int, False)},
}
MAX_LINE = 4096
_ACCEPTED = {int: (int,), float: (int, float), str: (str,)}
_WORDS = {int: "a whole number", float: "a number", str: "text"}


class ControlError(Exception):
    """A control line that is not a command; the message says why (it never echoes the line)."""


def parse(line):
    """The command of one control line as a dict with "cmd"; ControlError if it is none."""
    if len(line) > MAX_LINE:
        raise ControlError("control line longer than %d characters" % MAX_LINE)
    if not line.strip():
        return {"cmd": "press"}
    try:
        command = json.loads(line)
    except ValueError:
        raise ControlError("not a JSON object (an empty line presses the button)") from None
    if not isinstance(command, dict) or command.get("cmd") not in COMMANDS:
        raise ControlError("unknown command; known: %s" % ", ".join(COMMANDS))
    fields = COMMANDS[command["cmd"]]
    for name in command:
        if name != "cmd" and name not in fields:
            raise ControlError("%s takes no field %r" % (command["cmd"], name[:40]))
    for name, (kind, required) in fields.items():
        if name not in command:
            if required:
                raise ControlError("%s needs %r" % (command["cmd"], name))
            continue
        value = command[name]
        if isinstance(value, bool) or not isinstance(value, _ACCEPTED[kind]):
            raise ControlError("%s: %r must be %s" % (command["cmd"], name, _WORDS[kind]))
        if kind is not str and not math.isfinite(value):
            raise ControlError("%s: %r must be finite" % (command["cmd"], name))
    if command["cmd"] == "clock" and len(command) != 2:
        raise ControlError("clock takes one of 'jump' or 'drift_ppm'")
    if command["cmd"] == "power-cut" and command["at"] not in CUT_POINTS:
        raise ControlError("power-cut: 'at' is one of %s" % ", ".join(CUT_POINTS))
    if command.get("bytes", 0) < 0 or command.get("ms", 0) < 0:
        raise ControlError("%s: counts are not negative" % command["cmd"])
    return command


def apply(simulator, command):
    """Do ``command`` (from parse) on a CPython-engine fobsim.simulator.Simulator, in its event loop."""
    name, board, clock, observer = command["cmd"], simulator.board, simulator.clock, simulator.observer
    if name in ("press", "long-press"):  # held about 3 s, the firmware shows its information screen
        board.press(command.get("ms", 0))
    elif name == "clock" and "jump" in command:
        now = clock.now()
        if now is None:
            raise ControlError("clock: the fob's clock is not set (its RTC is flat)")
        clock.set(now + command["jump"])
        simulator.save_clock()
        observer.emit("clock", time=int(now + command["jump"]), drift_ppm=clock.drift_ppm)
    elif name == "clock":
        try:
            drift = checked_drift(command["drift_ppm"])
        except ValueError as error:
            raise ControlError("clock: %s" % error) from None
        if clock.is_set:
            clock.set(clock.now())  # the old rate up to now, the new one from now on
        clock.drift_ppm = drift
        simulator.save_clock()
        observer.emit("clock", time=None if clock.now() is None else int(clock.now()), drift_ppm=drift)
    elif name == "rtc-flat":
        clock.lose()
        simulator.save_clock()
        observer.emit("clock", time=None, drift_ppm=clock.drift_ppm)
    elif name == "unplug":
        simulator.unplug()
    elif name == "plug":
        simulator.plug()
    else:
        simulator.token.store.files = CuttingFiles(command["at"], command.get("bytes", 0), simulator._power_cut)


class PowerCut(BaseException):
    """The power went at ``point``: no firmware code may catch it (it is not an Exception)."""

    def __init__(self, point):
        super().__init__(point)
        self.point = point


class CuttingFiles(Files):
    """The firmware's file operations, with the power cut at one point of the next record write.

    ``cut(point)`` is called when it happens, then PowerCut raised: what
    reached the flash until then stays, as on a board.
    """

    def __init__(self, point, after_bytes, cut):
        self.point = point
        self.after_bytes = after_bytes
        self._cut = cut

    def _now(self, point):
        self._cut(point)
        raise PowerCut(point)

    def open(self, path, mode):
        f = super().open(path, mode)
        if self.point == "write" and "w" in mode:
            return _CutWriter(f, self.after_bytes, lambda: self._now("write"))
        return f

    def rename(self, old, new):
        if self.point == "rename":
            self._now("rename")
        super().rename(old, new)
        if self.point == "renamed":
            self._now("renamed")


class _CutWriter:
    """A file that takes ``limit`` bytes, flushes them to the flash, then loses the power."""

    def __init__(self, f, limit, cut):
        self._f = f
        self._limit = limit
        self._cut = cut

    def write(self, data):
        if len(data) <= self._limit:
            self._limit -= len(data)
            return self._f.write(data)
        self._f.write(bytes(data[: self._limit]))
        self._f.close()
        self._cut()

    def flush(self):
        self._f.flush()

    def close(self):
        self._f.close()
