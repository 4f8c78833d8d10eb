"""The simulated token's directory: --blank erases the token, never what else the directory holds."""

import time

from fobsim.simulator import Simulator


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
    assert flash.stat().st_mode & 0o777 == 0o700 and (flash / "seed.rec").exists()


def test_an_existing_flash_directory_is_made_private(tmp_path):
    (tmp_path / "fob" / "flash").mkdir(parents=True, mode=0o755)
    _open(tmp_path / "fob")
    assert (tmp_path / "fob" / "flash").stat().st_mode & 0o777 == 0o700
