"""Five years of one fob's life against fobauth's real service, on a virtual clock: does every code pass?

The fob is the firmware's own Token on a board whose crystal runs
``ppm`` fast or slow; the service is fobauth.service.AuthService on a
SQLite file, called through its public methods (import, create_user,
register, verify, resync) with the same virtual clock.  The owner presses
the button at random moments a few times a day and types the code within
half a minute.  A refused code is a *false refusal* (every code shown is
legitimate); the owner then resynchronises with two consecutive codes,
and only if that fails too is the fob taken to the desk for an
authenticated clock correction (Token.challenge/sync, as `fob sync` does).
Nothing sleeps: five years take seconds.
"""

import os
import random
import tempfile
import time
from pathlib import Path

from argon2 import PasswordHasher

from fobauth import errors
from fobauth.database import make_engine, upgrade
from fobauth.pskcimport import TokenSeed
from fobauth.seedbox import SeedBox
from fobauth.service import AuthService
from fobcore import clocksync
from fobcore.board import Board
from fobcore.record import Files, Store
from fobcore.token import Token, TokenError

DAY = 86400
YEAR = 365 * DAY
START = 1_800_000_000  # a Monday morning, UTC
SERIAL = "1000000016"
PERIOD = 60
PASSWORD = "five years of codes"  # noqa: S105  (a simulated owner's login)
DOC = Path(__file__).resolve().parents[1] / "docs" / "fiveyears.md"
BEGIN = "<!-- table: make bench (benchmarks/fiveyears.py) -->"
END = "<!-- end of table -->"
# (drift in ppm, uses per day, days away in one stretch each year): the suite runs all but -20.
SCENARIOS = ((2.0, 3, 0), (-2.0, 3, 0), (20.0, 3, 0), (-20.0, 3, 0), (20.0, 3, 60))


class VirtualTime:
    """The true time (host UTC) of the simulation, moved by the simulation only."""

    def __init__(self, now):
        self.now = float(now)

    def __call__(self):
        return self.now


class DriftingBoard(Board):
    """A fob whose clock runs ``ppm`` fast (negative: slow) from the moment it was last set."""

    name = "drifting"

    def __init__(self, storage, true_time, ppm):
        self.storage = storage
        self.true_time = true_time
        self.rate = 1 + ppm / 1e6
        self._set = None  # (true time, fob time) when last set

    def time_ms(self):
        if self._set is None:
            return None
        true_at, fob_at = self._set
        return int((fob_at + (self.true_time() - true_at) * self.rate) * 1000)

    def time(self):
        ms = self.time_ms()
        return None if ms is None else ms // 1000

    def set_time(self, unix_seconds):
        self._set = (self.true_time(), unix_seconds)

    def ticks_ms(self):
        return int(self.true_time() * 1000)

    def ticks_diff(self, a, b):
        return a - b

    def storage_dir(self):
        return self.storage

    def set_kbd_intr(self, enabled):
        pass


class NoSync(Files):
    """Real files without os.sync(): the simulated flash never loses power, and thousands of writes stay fast."""

    def sync(self):
        pass


class Life:
    """What happened: counts, and the worst clock error and learnt drift seen."""

    def __init__(self, ppm, uses_per_day, away_days):
        self.ppm = ppm
        self.uses_per_day = uses_per_day
        self.away_days = away_days
        self.codes = 0
        self.false_refusals = 0
        self.resyncs = 0
        self.corrections = 0
        self.unrecovered = 0  # refusals that neither a resync nor the desk could repair
        self.forced = 0  # forced corrections the fob counted
        self.kept_identity = None  # serial and seed the same after five years
        self.worst_offset = 0.0  # seconds, fob minus true time, at a press

    def row(self):
        return (
            "%+.0f ppm" % self.ppm,
            "%d/day%s" % (self.uses_per_day, ", %d days away a year" % self.away_days if self.away_days else ""),
            self.codes,
            self.false_refusals,
            self.resyncs,
            self.corrections,
            "%+.0f s" % self.worst_offset,
        )


COLUMNS = ("drift", "use", "codes", "false refusals", "resyncs", "desk corrections", "worst clock error")


def live(ppm, uses_per_day=3, away_days=0, years=5, seed=1, directory=None):
    """Simulate ``years`` of use; return a Life."""
    rng = random.Random(seed)  # noqa: S311  (reproducible moments, not secrets)
    with tempfile.TemporaryDirectory(prefix="fob-life-", dir=directory) as root:
        now = VirtualTime(START)
        storage = os.path.join(root, "flash")
        os.mkdir(storage)
        board = DriftingBoard(storage, now, ppm)
        board.set_time(START + rng.uniform(-0.05, 0.05))  # left the desk within 50 ms
        token = Token(board, Store(storage, NoSync()))
        secret = rng.randbytes(20)  # seeded like everything else: the same run gives the same table
        expiry = START + years * YEAR + 2 * DAY
        token.provision(secret, "sha1", 6, PERIOD, SERIAL, expiry)
        token.seal()
        engine = make_engine("sqlite:///%s" % os.path.join(root, "fobauth.db"))
        try:
            upgrade(engine)
            cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
            service = AuthService(engine, SeedBox(os.urandom(32)), clock=now, hasher=cheap)
            service.import_tokens([TokenSeed(SERIAL, secret, "sha1", 6, PERIOD, expiry, 0)])
            service.create_user("owner", "acme", "user", PASSWORD, PASSWORD)
            life = Life(ppm, uses_per_day, away_days)
            now.now += 3600
            service.register("owner", SERIAL, token.code_now()[0])
            _days(life, rng, now, board, token, service, secret, years)
            life.forced = token.record.forced
            life.kept_identity = token.serial == SERIAL and token.record.seed == secret
        finally:
            engine.dispose()
    return life


def _days(life, rng, now, board, token, service, secret, years):
    first_day = START // DAY + 1
    for day in range(first_day, first_day + years * 365 - 1):
        if life.away_days and day % 365 < life.away_days:
            continue
        for moment in sorted(rng.uniform(7 * 3600, 23 * 3600) for _ in range(life.uses_per_day)):
            # A code is used once: within the same step the owner would wait for the next one.
            now.now = max(day * DAY + moment, now.now + 2 * PERIOD)
            offset = board.time_ms() / 1000 - now.now
            life.worst_offset = max(life.worst_offset, offset, key=abs)
            code = token.code_now()[0]
            now.now += rng.uniform(3, 30)  # reading and typing it
            life.codes += 1
            try:
                service.verify("owner", code)
                continue
            except errors.AuthError:
                life.false_refusals += 1
            if not _resync(life, now, token, service):
                _desk_correction(now, token, secret)
                life.corrections += 1
                if not _resync(life, now, token, service):
                    life.unrecovered += 1


def _resync(life, now, token, service):
    """The owner's self-service: two consecutive codes, a step apart."""
    first = token.code_now()[0]
    now.now += PERIOD
    second = token.code_now()[0]
    life.resyncs += 1
    try:
        service.resync("owner", first, second)
        return True
    except errors.AuthError:
        return False


def _desk_correction(now, token, secret):
    """`fob sync` at the desk: the token's own challenge and a MAC from the inventory's seed.  A fast fob
    has shown codes for times still to come, so moving it back needs --force (the fob counts it)."""
    key = clocksync.key(secret, "sha1")
    for force in (False, True):
        challenge = token.challenge()
        second = int(now.now) + 1
        now.now = second
        try:
            token.sync(second, force, clocksync.mac(key, "sha1", SERIAL, challenge, second, force))
            return
        except TokenError as error:
            if error.code != "bounds":
                raise


def table_row(life):
    return "| " + " | ".join(str(cell) for cell in life.row()) + " |"


def table(lives):
    """The results as a Markdown table: docs/fiveyears.md carries the one `make bench` last wrote."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    return "\n".join(lines + [table_row(life) for life in lives])


def write_doc(text, path=DOC):
    """Replace the table between the markers in docs/fiveyears.md."""
    page = path.read_text()
    head, _, rest = page.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(head + BEGIN + "\n" + text + "\n" + END + tail)


def main():
    started = time.process_time()
    lives = [live(ppm, uses, away) for ppm, uses, away in SCENARIOS]
    text = table(lives)
    print(text)
    print("CPU time for %d simulated fob-years: %.1f s" % (5 * len(lives), time.process_time() - started))
    write_doc(text)
    print("written to %s" % DOC)


if __name__ == "__main__":
    main()
