"""The fob's state and rules, independent of transport and display.

States: BLANK (no seed), ACTIVE (provisioned, not sealed), SEALED,
EXPIRED, CLOCK (clock unset or implausible) and CORRUPT (a record that
cannot be trusted).  The state is derived afresh from the record and the
clock on every call, so it can never lag behind either.

A sealed fob's clock is only moved by an authenticated correction
(``challenge`` then ``sync``, fobcore.clocksync): bounded to
``max_sync_steps`` steps and never back past the latest time the fob knew
(its last shown code, its seal, its last correction), unless forced, and
every forced correction is counted in the record.
"""

import fobcore
from fobcore import clocksync, limits, otp
from fobcore.limits import MAX_TIME, MIN_TIME
from fobcore.record import Record, RecordError, Store

BLANK = "BLANK"
ACTIVE = "ACTIVE"
SEALED = "SEALED"
EXPIRED = "EXPIRED"
CLOCK = "CLOCK"
CORRUPT = "CORRUPT"

# Refused corrections make the fob wait before it gives the next challenge: 1 s, doubling up to this.
MAX_SYNC_BACKOFF_MS = 64000

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

    def __init__(self, board, store=None, max_sync_steps=limits.MAX_SYNC_STEPS):
        self.board = board
        self.store = store or Store(board.storage_dir())
        self.max_sync_steps = max_sync_steps
        self._otp = None
        self._shown = 0  # the time of the latest code shown since boot
        self._challenge = None  # the one open clock-correction challenge: RAM only, so a reset forgets it
        self._refusals = 0
        self._refused_at = 0
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
        ms = self.board.time_ms()
        return {
            "serial": self.serial,
            "state": self.state,
            "sealed": self.sealed,
            "board": self.board.name,
            "firmware": fobcore.VERSION,
            "algorithms": list(otp.supported_algorithms()),
            "free": self.board.free_bytes(),
            "time": self.board.time() if ms is None else ms // 1000,
            "ms": None if ms is None else ms % 1000,
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
        _check_time(unix_seconds)
        self._set_clock(unix_seconds)

    def _set_clock(self, unix_seconds):
        try:
            self.board.set_time(unix_seconds)
        except OSError as e:  # e.g. the RTC did not answer on I2C
            raise TokenError("rtc", "could not set the clock (errno %s)" % (e.args[0] if e.args else "?"))

    def provision(self, seed, algorithm, digits, period, serial, expiry):
        """Store a new seed and its parameters; the token becomes ACTIVE."""
        if self.sealed:
            raise TokenError("sealed", "the token is sealed: wipe it first")
        if not isinstance(seed, (bytes, bytearray)) or not limits.MIN_SEED <= len(seed) <= limits.MAX_SEED:
            raise TokenError("bad_param", "seed must be %d to %d bytes" % (limits.MIN_SEED, limits.MAX_SEED))
        if algorithm not in otp.supported_algorithms():
            raise TokenError(
                "unsupported", "algorithm not supported here (supported: %s)" % ", ".join(otp.supported_algorithms())
            )
        if not _is_int(digits) or not limits.MIN_DIGITS <= digits <= limits.MAX_DIGITS:
            raise TokenError("bad_param", "digits must be %d to %d" % (limits.MIN_DIGITS, limits.MAX_DIGITS))
        if not _is_int(period) or not limits.MIN_PERIOD <= period <= limits.MAX_PERIOD:
            raise TokenError("bad_param", "period must be %d to %d seconds" % (limits.MIN_PERIOD, limits.MAX_PERIOD))
        if not limits.is_serial(serial):
            raise TokenError(
                "bad_param", "serial number must be %d to %d digits" % (limits.MIN_SERIAL, limits.MAX_SERIAL)
            )
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
        code = self._code(now)
        self._note_shown(now)
        return code, otp.seconds_left(now, period), period

    def _note_shown(self, now):
        """Remember that a code for ``now`` was shown; stored once per step, so even a fob whose RTC
        cell runs flat knows how far back no correction may go."""
        if now > self._shown:
            self._shown = now
        r = self.record
        if now // r.period > r.known // r.period:
            updated = r.but(known=now)
            try:
                self.store.save(updated)
                self.record = updated
            except OSError:
                pass  # the bound stays in RAM until the next save; the code is still right

    def known_time(self):
        """The latest time this fob knew for sure: an unforced correction never goes back before it."""
        r = self.record
        return max(r.known if r else 0, self._shown)

    def challenge(self):
        """A fresh random challenge for one clock correction (``sync``); only on a sealed fob."""
        r = self.record
        if self.problem is not None:
            raise TokenError("corrupt", "the seed record cannot be trusted")
        if r is None or not r.seed:
            raise TokenError("blank", "the token has no seed")
        if not r.sealed:
            raise TokenError("not_sealed", "the token is not sealed: set its clock with SET-TIME")
        if self._refusals:
            wait = min(1000 << (self._refusals - 1), MAX_SYNC_BACKOFF_MS)
            left = wait - self.board.ticks_diff(self.board.ticks_ms(), self._refused_at)
            if left > 0:
                raise TokenError("busy", "a correction was refused: try again in %d s" % ((left + 999) // 1000))
        self._challenge = bytes(self.board.random_bytes(clocksync.CHALLENGE_BYTES))
        return self._challenge

    def sync(self, new_time, force, proof, aging=None):
        """Set a sealed fob's clock to ``new_time`` (and its aging trim to ``aging`` unless None) if ``proof``
        is the MAC over the open challenge.

        Returns (old time or None, new time, forced corrections so far).  The challenge is used up
        whatever the outcome; a wrong proof only says "denied" and delays the next challenge.
        """
        challenge, self._challenge = self._challenge, None
        if challenge is None:
            raise TokenError("challenge", "no open challenge: ask for one (CHALLENGE); each is used once")
        _check_time(new_time)
        if aging is not None and not (_is_int(aging) and limits.MIN_AGING <= aging <= limits.MAX_AGING):
            raise TokenError("bad_param", "aging must be %d to %d" % (limits.MIN_AGING, limits.MAX_AGING))
        r = self.record
        key = clocksync.key(r.seed, r.algorithm)
        expected = clocksync.mac(key, r.algorithm, r.serial, challenge, new_time, force, aging)
        if not clocksync.equal(expected, bytes(proof)):
            self._refusals += 1
            self._refused_at = self.board.ticks_ms()
            raise TokenError("denied", "correction refused")
        self._refusals = 0
        if aging is not None and self.board.aging() is None:
            raise TokenError("unsupported", "this fob's clock has no aging trim")
        old = self.clock()
        floor = self.known_time()
        if not force:
            if new_time < floor:
                raise TokenError("bounds", "that moves the clock back before %d, the latest time it knew" % floor)
            limit = self.max_sync_steps * r.period
            if old is not None and abs(new_time - old) > limit:
                raise TokenError(
                    "bounds",
                    "a correction of %+d s is beyond %d s (%d steps)" % (new_time - old, limit, self.max_sync_steps),
                )
        self._set_clock(new_time)
        if aging is not None:
            try:
                self.board.set_aging(aging)
            except OSError as e:
                raise TokenError("rtc", "could not set the aging trim (errno %s)" % (e.args[0] if e.args else "?"))
        self._shown = 0 if force else self._shown
        self._save(r.but(known=new_time if force else max(floor, new_time), forced=r.forced + (1 if force else 0)))
        return old, new_time, self.record.forced

    def seal(self):
        """Freeze the token: no more SET-TIME, PROVISION or CHECK, and no Ctrl-C on the serial stream."""
        state = self.state
        if state != ACTIVE:
            raise TokenError(_REFUSALS[state], "only an ACTIVE token can be sealed (it is %s)" % state)
        self._save(self.record.but(sealed=True, known=max(self.known_time(), self.clock())))

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


def _check_time(unix_seconds):
    if not _is_int(unix_seconds) or not MIN_TIME <= unix_seconds < MAX_TIME:
        raise TokenError("bad_param", "time must be Unix seconds from %d to %d" % (MIN_TIME, MAX_TIME - 1))
