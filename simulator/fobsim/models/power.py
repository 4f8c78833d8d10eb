"""A board's power profile (boards/<name>/power.json): current per state, each with its source.

The models account the seconds spent in each (part, state); a profile turns
them into charge.  A profile that is missing or malformed is a ProfileError
naming the file and what is wrong, never a traceback.
"""

import json

from fobhost.flashing import BOARDS_DIR

PARTS = {
    "mcu": ("boot", "run", "idle", "off"),
    "display": ("on", "off", "unpowered"),
    "ds3231": ("vcc", "battery"),
    "regulator": ("powered",),
    "latch": ("off",),
}


class ProfileError(ValueError):
    pass


def _number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ProfileError("%s must be a number >= 0" % where)
    return value


def _sourced(entry, key, where):
    if not isinstance(entry, dict) or not isinstance(entry.get("source"), str) or not entry["source"].strip():
        raise ProfileError("%s needs a %r and a non-empty 'source'" % (where, key))
    return _number(entry.get(key), "%s.%s" % (where, key))


class Profile:
    def __init__(self, board, data, path):
        where = str(path)
        if not isinstance(data, dict):
            raise ProfileError("%s: not a JSON object" % where)
        self.board = board
        self.path = path
        self.boot_seconds = _sourced(data.get("boot_seconds"), "value", where + ": boot_seconds")
        self.wake_seconds = _sourced(data.get("wake_seconds"), "value", where + ": wake_seconds")
        currents = data.get("currents")
        if not isinstance(currents, dict):
            raise ProfileError("%s: 'currents' must be an object of part.state entries" % where)
        self.currents = {}
        self.sources = {}
        for name, entry in currents.items():
            part, _, state = name.partition(".")
            if not state:
                raise ProfileError("%s: current %r is not part.state" % (where, name))
            self.currents[(part, state)] = _sourced(entry, "ua", "%s: currents.%s" % (where, name))
            self.sources[(part, state)] = entry["source"]
        for part, states in PARTS.items():
            for state in states:
                if (part, state) not in self.currents:
                    raise ProfileError("%s: no current for %s.%s" % (where, part, state))
        variants = data.get("variants")
        if not isinstance(variants, dict) or not variants:
            raise ProfileError("%s: 'variants' must name at least one build" % where)
        self.variants = {}
        for name, variant in variants.items():
            vwhere = "%s: variants.%s" % (where, name)
            if not isinstance(variant, dict) or not isinstance(variant.get("latch"), bool):
                raise ProfileError("%s needs 'latch': true or false" % vwhere)
            cell = variant.get("cell")
            _sourced(cell, "mah", vwhere + ".cell")
            _number(cell.get("self_discharge_percent_per_year"), vwhere + ".cell.self_discharge_percent_per_year")
            if not isinstance(cell.get("name"), str):
                raise ProfileError("%s.cell needs a 'name'" % vwhere)
            self.variants[name] = variant

    def current(self, part, state):
        try:
            return self.currents[(part, state)]
        except KeyError:
            raise ProfileError("%s: no current for %s.%s" % (self.path, part, state)) from None

    def charge_uas(self, totals, latch):
        """Microamp-seconds drawn from the fob's cell for ledger ``totals`` ((part, state) -> seconds)."""
        charge = 0.0
        for (part, state), seconds in totals.items():
            if seconds:
                charge += self.current(part, state) * seconds
        powered = sum(s for (part, state), s in totals.items() if part == "mcu" and state != "off")
        off = totals.get(("mcu", "off"), 0.0)
        charge += self.current("regulator", "powered") * powered
        if latch:
            charge += self.current("latch", "off") * off
        return charge


def load(board, boards=BOARDS_DIR):
    path = boards / board / "power.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ProfileError("board %s has no power profile (%s)" % (board, path)) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ProfileError("%s: not readable JSON (%s)" % (path, error)) from None
    return Profile(board, data, path)
