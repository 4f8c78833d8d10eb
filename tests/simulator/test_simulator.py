"""The Simulator: its token directory (--blank, permissions) and the time its code events carry."""

import time

from fobsim.simulator import DEMO_SEED, Simulator
from oracles import pyotp_totp_at


def _open(directory, **options):
    simulator = Simulator(directory, **options)
    simulator.port.close()
    return simulator


def test_blank_erases_the_token_and_nothing_else(tmp_path):
    directory = tmp_path / "tokens"
    assert _open(directory).provision_demo()
    (directory / "notes.txt").write_text("not the simulator's")
    (directory / "keys").mkdir()
    (directory / "keys" / "id").write_bytes(b"also not")
    blank = _open(directory, blank=True)
    assert blank.token.state == "BLANK" and blank.token.serial == ""
    assert (directory / "notes.txt").read_text() == "not the simulator's"
    assert (directory / "keys" / "id").read_bytes() == b"also not"


def test_blank_starts_a_fresh_clock(tmp_path):
    directory = tmp_path / "fob"
    _open(directory, offset=-86_400)
    assert abs(_open(directory).clock.now() - (time.time() - 86_400)) < 60  # the skew persists...
    assert abs(_open(directory, blank=True).clock.now() - time.time()) < 60  # ...until the token is blanked


def test_the_flash_holding_the_seed_is_private(tmp_path):
    directory = tmp_path / "fob"
    directory.mkdir(mode=0o755)
    assert _open(directory).provision_demo()
    flash = directory / "flash"
    assert flash.stat().st_mode & 0o777 == 0o700 and list(flash.rglob("seed.rec"))  # the record is inside it


def test_an_existing_flash_directory_is_made_private(tmp_path):
    (tmp_path / "fob" / "flash").mkdir(parents=True, mode=0o755)
    _open(tmp_path / "fob")
    assert (tmp_path / "fob" / "flash").stat().st_mode & 0o777 == 0o700


class Events:
    def __init__(self):
        self.emitted = []

    def emit(self, event, **fields):
        self.emitted.append(dict(fields, event=event))


class CreepingHostTime:
    """A host clock that moves on by ``step`` at every reading: each read of the fob's clock is a later time."""

    def __init__(self, start, step):
        self.now = start
        self.step = step

    def __call__(self):
        self.now += self.step
        return self.now


def test_a_code_event_carries_the_time_the_code_is_for(tmp_path):
    """Even when the fob's clock crosses a step boundary while the screen is drawn."""
    events = Events()
    simulator = _open(tmp_path / "fob", events=events)
    assert simulator.provision_demo()
    for start in range(1_800_000_055, 1_800_000_061):  # reads creep across the boundary at ...060
        simulator.clock._host_time = CreepingHostTime(start, 0.6)
        simulator.clock.set(start)
        simulator.app.press()
        press = [e for e in events.emitted if e["event"] == "press"][-1]  # one for every press, code or not
        assert press["shows"] == "code" and press["code"] == pyotp_totp_at(DEMO_SEED, press["time"])
