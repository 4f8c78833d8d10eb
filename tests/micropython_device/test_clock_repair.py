"""A sealed simulated fob, on both engines, whose clock ran 5 minutes fast or whose RTC was lost, is repaired
by `fob sync` from the inventory and its codes are accepted by the validation service for the same user."""

import csv
import math
import re
import time

import pytest
from argon2 import PasswordHasher

from fobauth import errors
from fobauth.database import make_engine, upgrade
from fobauth.pskcimport import TokenSeed
from fobauth.seedbox import SeedBox
from fobauth.service import AuthService
from fobcore import base32
from fobhost.inventory import Inventory
from fobsim import tokendir
from fobsim.clock import VirtualClock
from oracles import pyotp_totp_at
from simproc import SimProcess, fob

PERIOD = 10  # short, so waiting for a fresh step costs little


def _sim(directory, engine, *options):
    return SimProcess(directory, "--engine", engine, "--display-timeout", "2", *options)


def _seed(inventory, serial, tmp_path):
    out = tmp_path / "seed.csv"
    fob("export", "--format", "csv", "--plaintext", "-o", out, "--inventory", inventory, serial)
    (row,) = csv.DictReader(out.open())
    return base32.decode(row["secret_base32"])


def _shown_code(sim, serial):
    """The code the fob shows when pressed now, from the press event (a ``code`` event comes only when the
    code changes, and the fob may already show this one), pressed again until the fob's time of it is
    within a quarter period of host time: typed then, it is within half a period as fast as the
    registration's code, which the service takes whatever the phase (docs/server.md)."""
    sim.pending_events()
    while True:
        sim.press()
        shown = sim.next_event("press", shows="code", serial=serial)
        if abs(shown["time"] - time.time()) < PERIOD / 4:
            return shown


def _after_step(step):
    """Wait (at most one period) until host time is past ``step``: a code is accepted once."""
    wait = (step + 1) * PERIOD - time.time()
    if wait > 0:
        time.sleep(wait + 0.05)


def _service(database, clock=time.time):
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return AuthService(database, SeedBox(bytes(range(32))), clock=clock, hasher=cheap)


@pytest.fixture
def database(tmp_path):
    engine = make_engine("sqlite:///%s" % (tmp_path / "fobauth.db"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("engine", ["cpython", "micropython"])
def test_a_fast_fob_and_a_fob_without_rtc_are_repaired_from_the_inventory(tmp_path, engine, database):
    inventory = tmp_path / "inventory.sqlite3"
    directory = tmp_path / "fob"
    with _sim(directory, engine, "--blank") as sim:
        if engine == "micropython":
            assert "flashed sim" in fob("flash", "--board", "sim", "--port", sim.port).stdout
        sim.next_event("state", state="BLANK")
        fob("provision", "--port", sim.port, "--inventory", inventory, "--period", PERIOD)
        serial = sim.next_event("state", state="SEALED")["serial"]
    seed = _seed(inventory, serial, tmp_path)
    # Registered a period ago, with the code shown then typed at once: the fob's codes now are fresh, and
    # the service takes them, typed as fast, whatever the phase (docs/server.md, "How drift is learnt").
    then = time.time() - PERIOD
    registration = _service(database, clock=lambda: then)
    registration.import_tokens([TokenSeed(serial, seed, "sha1", 6, PERIOD, None, 0)])
    registration.create_user("alice", "acme", "user", "login password", "login password")
    registration.register("alice", serial, pyotp_totp_at(seed, then, period=PERIOD))
    service = _service(database)

    # Five minutes fast: its codes are refused until the desk corrects it.
    with _sim(directory, engine, "--offset", "300") as sim:
        sim.next_event("state", state="SEALED")
        offset = re.search(r"device - host: ([+-][\d.]+) s", fob("info", "--port", sim.port).stdout)
        assert 299 < float(offset.group(1)) < 301
        # It showed codes for times still to come (the display comes on at power-up): moving it back
        # past them needs --force, which the fob counts and the inventory logs.
        refused = fob("sync", "--port", sim.port, "--inventory", inventory, check=False)
        assert refused.returncode == 2 and "--force applies it anyway" in refused.stderr
        done = fob("sync", "--port", sim.port, "--inventory", inventory, "--by", "desk", "--force")
        moved = re.fullmatch(r"fob %s: clock .* -> .* \(([+-]\d+) s\), forced\n" % serial, done.stdout)
        assert moved and -301 <= int(moved.group(1)) <= -299
        shown = _shown_code(sim, serial)
        assert shown["code"] == pyotp_totp_at(seed, shown["time"], PERIOD)
        service.verify("alice", shown["code"])
        used = shown["time"] // PERIOD

    # The RTC's cell ran flat: the fob shows CLOCK; the desk sets it again.
    clock = VirtualClock.load(tokendir.clock_path(directory))
    clock.lose()
    clock.save(tokendir.clock_path(directory))
    with _sim(directory, engine) as sim:
        sim.next_event("state", state="CLOCK")
        _after_step(used)
        done = fob("sync", "--port", sim.port, "--inventory", inventory)
        assert "clock lost -> " in done.stdout
        sim.next_event("state", state="SEALED")
        shown = _shown_code(sim, serial)
        service.verify("alice", shown["code"])
        with pytest.raises(errors.Replayed):
            service.verify("alice", shown["code"])
        info = fob("info", "--port", sim.port).stdout
        assert "serial      %s" % serial in info and "state       SEALED" in info

    with Inventory(inventory) as kept:
        log = kept.corrections(serial)
        assert kept.seed(serial) == seed
    assert [(c.who, c.forced, c.old_time is None) for c in log[:1]] == [("desk", True, False)]
    assert len(log) == 2 and log[1].old_time is None and math.isclose(log[1].new_time, time.time(), abs_tol=60)
