"""The fob's state and rules, independent of transport and display.

States: BLANK (no seed), ACTIVE (provisioned, not sealed), SEALED,
EXPIRED, CLOCK (clock unset or implausible) and CORRUPT (a record that
cannot be trusted).  The state is derived afresh from the record and the
clock on every call, so it can never lag behind either.
"""

import fobcore
from fobcore import otp
from fobcore.record import MAX_SEED, MIN_SEED, Record, RecordError, Store

BLANK = "BLANK"
ACTIVE = "ACTIVE"
SEALED = "SEALED"
EXPIRED = "EXPIRED"
CLOCK = "CLOCK"
CORRUPT = "CORRUPT"

# A clock before the firmware was built, or after 2100, is not believed.
MIN_TIME = 1767225600  # 2026-01-01T00:00:00Z
MAX_TIME = 4102444800  # 2100-01-01T00:00:00Z
MAX_PERIOD = 3600

# check() refuses with the state's own code.
_REFUSALS = {BLANK: "blank", SEALED: "sealed", EXPIRED: "expired", CLOCK: "clock", CORRUPT: "corrupt"}


class TokenError(Exception):
    """A refused operation; ``code`` is a stable lowercase identifier, the message never holds the seed."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class Token:
    """One fob: its record in the board's storage and the board's clock."""

    def __init__(self, board, store=None):
        self.board = board
        self.store = store or Store(board.storage_dir())
        self._otp = None
        self._load()
        self._guard_repl()

    def _load(self):
        self.problem = None  # why the record is CORRUPT
        self.record = None
        self._otp = None
        try:
            self.record = self.store.load()
        except RecordError as e:
            self.problem = str(e)
        except OSError as e:
            self.problem = "storage unreadable (errno %s)" % (e.args[0] if e.args else "?")

    def _guard_repl(self):
        """Ctrl-C (and so the raw REPL) only on a fob known to be unsealed: not sealed, not CORRUPT."""
        self.board.set_kbd_intr(self.problem is None and not self.sealed)

    def _save(self, record):
        try:
            self.store.save(record)
        except OSError as e:
            self._load()
            raise TokenError("storage", "could not write the seed record (errno %s)" % (e.args[0] if e.args else "?"))
        self.record = record
        self.problem = None
        self._otp = None
        self._guard_repl()

    @property
    def sealed(self):
        return self.record is not None and self.record.sealed

    @property
    def serial(self):
        return self.record.serial if self.record else ""

    def clock(self):
        """The board's time in Unix seconds if it is plausible, else None."""
        now = self.board.time()
        if now is None or not MIN_TIME <= now < MAX_TIME:
            return None
        return now

    @property
    def state(self):
        return self._state_at(self.clock())

    def _state_at(self, now):
        """The state at ``now`` (a clock() reading): callers read the clock once, so a code never
        comes from a second reading that the first did not vouch for."""
        if self.problem is not None:
            return CORRUPT
        if self.record is None or not self.record.seed:
            return BLANK
        if now is None:
            return CLOCK
        if now >= self.record.expiry:
            return EXPIRED
        return SEALED if self.record.sealed else ACTIVE

    def info(self):
        record = self.record
        provisioned = record is not None and bool(record.seed)
        return {
            "serial": self.serial,
            "state": self.state,
            "sealed": self.sealed,
            "board": self.board.name,
            "firmware": fobcore.VERSION,
            "algorithms": list(otp.supported_algorithms()),
            "free": self.board.free_bytes(),
            "time": self.board.time(),
            "expiry": record.expiry if provisioned else None,
            "algorithm": record.algorithm if provisioned else None,
            "digits": record.digits if provisioned else None,
            "period": record.period if provisioned else None,
            "problem": self.problem,
            "battery": self.board.battery(),
        }

    def set_time(self, unix_seconds):
        if self.sealed:
            raise TokenError("sealed", "the token is sealed: its clock cannot be set")
        if not _is_int(unix_seconds) or not MIN_TIME <= unix_seconds < MAX_TIME:
            raise TokenError("bad_param", "time must be Unix seconds from %d to %d" % (MIN_TIME, MAX_TIME - 1))
        self.board.set_time(unix_seconds)

    def provision(self, seed, algorithm, digits, period, serial, expiry):
        """Store a new seed and its parameters; the token becomes ACTIVE."""
        if self.sealed:
            raise TokenError("sealed", "the token is sealed: wipe it first")
        if not isinstance(seed, (bytes, bytearray)) or not MIN_SEED <= len(seed) <= MAX_SEED:
            raise TokenError("bad_param", "seed must be %d to %d bytes" % (MIN_SEED, MAX_SEED))
        if algorithm not in otp.supported_algorithms():
            raise TokenError(
                "unsupported", "algorithm not supported here (supported: %s)" % ", ".join(otp.supported_algorithms())
            )
        if not _is_int(digits) or not otp.MIN_DIGITS <= digits <= otp.MAX_DIGITS:
            raise TokenError("bad_param", "digits must be %d to %d" % (otp.MIN_DIGITS, otp.MAX_DIGITS))
        if not _is_int(period) or not 1 <= period <= MAX_PERIOD:
            raise TokenError("bad_param", "period must be 1 to %d seconds" % MAX_PERIOD)
        if not isinstance(serial, str) or not 8 <= len(serial) <= 12 or not all("0" <= c <= "9" for c in serial):
            raise TokenError("bad_param", "serial number must be 8 to 12 digits")
        now = self.clock()
        if now is None:
            raise TokenError("clock", "set the clock before provisioning")
        if not _is_int(expiry) or not now < expiry < MAX_TIME:
            raise TokenError("bad_param", "expiry must be in the future (Unix seconds)")
        self._save(Record(bytes(seed), algorithm, digits, period, serial, expiry))

    def _code(self, now):
        if self._otp is None:
            r = self.record
            self._otp = otp.Otp(r.seed, r.algorithm, r.digits, r.period)
        return self._otp.totp(now)

    def check(self):
        """The code for the current step; only while ACTIVE (before sealing)."""
        now = self.clock()
        state = self._state_at(now)
        if state != ACTIVE:
            raise TokenError(_REFUSALS[state], "no code: the token is %s" % state)
        return self._code(now)

    def code_now(self):
        """(code, seconds left in the step, period) for the display: ACTIVE or SEALED only."""
        now = self.clock()
        state = self._state_at(now)
        if state != ACTIVE and state != SEALED:
            raise TokenError(_REFUSALS[state], "no code: the token is %s" % state)
        period = self.record.period
        return self._code(now), otp.seconds_left(now, period), period

    def seal(self):
        """Freeze the token: no more SET-TIME, PROVISION or CHECK, and no Ctrl-C on the serial stream."""
        state = self.state
        if state != ACTIVE:
            raise TokenError(_REFUSALS[state], "only an ACTIVE token can be sealed (it is %s)" % state)
        r = self.record
        self._save(Record(r.seed, r.algorithm, r.digits, r.period, r.serial, r.expiry, True))

    def wipe(self):
        """Erase the seed, keeping the serial number; the token becomes BLANK."""
        serial = self.serial
        try:
            if serial:
                self.store.save(Record(serial=serial))
            else:
                self.store.erase()
        except OSError as e:
            self._load()
            raise TokenError("storage", "could not erase the seed record (errno %s)" % (e.args[0] if e.args else "?"))
        self._load()
        self._guard_repl()
