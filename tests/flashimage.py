"""A board's flash as `fob flash` lays it out, with a seed record, for the VMs to boot from."""

import atexit
import functools
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from fakeboard import FakeBoard

from fobcore.token import Token
from fobhost.flashing import MPY_CROSS, SOURCE_ROOT, BoardPackage, compile_firmware
from fobsim.models.image import sources as image_sources

DRIVERS = SOURCE_ROOT / "boards" / "drivers"

SEED = bytes(range(20))
SERIAL = "12345678"


@functools.cache
def _compiled(board):
    """The firmware for ``board`` compiled once per test session, as `fob flash` installs it (read-only)."""
    staging = Path(tempfile.mkdtemp(prefix="fob-%s-" % board))
    atexit.register(shutil.rmtree, staging, True)
    flash = staging / "flash"
    for target, local in compile_firmware(BoardPackage(board), staging / "build"):
        destination = flash / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, destination)
    return flash


@functools.cache
def board_firmware(board):
    """A real ``board``'s flash as `fob flash` installs it, micropython-lib's ssd1306 (as .mpy) included (read-only).

    The driver is the pinned one the board models use (scripts/fetch-ssd1306)."""
    flash = Path(tempfile.mkdtemp(prefix="fob-%s-ssd1306-" % board))
    atexit.register(shutil.rmtree, flash, True)
    shutil.copytree(_compiled(board), flash, dirs_exist_ok=True)
    driver = image_sources(board)["ssd1306"]
    command = [*MPY_CROSS, "-s", "lib/ssd1306.py", "-o", str(flash / "lib" / "ssd1306.mpy"), str(driver)]
    subprocess.run(command, check=True)  # named by its board path, as fob flash names its own files
    return flash


def flash_firmware(flash, board="sim"):
    """Put the firmware and ``board``'s files into ``flash`` as `fob flash` installs them."""
    shutil.copytree(_compiled(board), flash, dirs_exist_ok=True)


def store_record(flash, sealed=True):
    """Provision (and seal) a token whose record lives in ``flash``/data; return the record's bytes."""
    token = Token(FakeBoard(Path(flash) / "data", unix_time=int(time.time())))
    token.provision(SEED, "sha1", 6, 30, SERIAL, int(time.time()) + 86400 * 365)
    if sealed:
        token.seal()
    return (Path(flash) / "data" / "seed.rec").read_bytes()


def flash_unix_firmware(flash):
    """The firmware with tests/firmware/unix/board.py as the board, for main.py on the unix port."""
    flash_firmware(flash)
    lib = Path(flash) / "lib"
    (lib / "board.mpy").unlink()
    tests = Path(__file__).parent
    for source in (tests / "firmware/unix/board.py", tests / "firmware/vm/scriptboard.py", DRIVERS / "usbserial.py"):
        subprocess.run([*MPY_CROSS, "-o", str(lib / (source.stem + ".mpy")), str(source)], check=True)


# board.py replacements: each fails at one point after power-on.
FAILING_BOARDS = {
    "memory error while importing": "_ = bytearray(1 << 40)\n",
    "driver exception": "DISPLAY_TIMEOUT_MS = 1000\ndef create():\n    raise OSError(5)  # EIO: no display on I2C\n",
    "keyboard interrupt": "DISPLAY_TIMEOUT_MS = 1000\ndef create():\n    raise KeyboardInterrupt\n",
}
FAILURES = ["app.mpy missing", *FAILING_BOARDS]


def inject(flash, failure):
    """Damage ``flash`` so that the firmware fails to start in the way ``failure`` names."""
    lib = Path(flash) / "lib"
    if failure == "app.mpy missing":
        (lib / "fobcore" / "app.mpy").unlink()  # a half-copied firmware
    else:
        (lib / "board.mpy").unlink()
        (lib / "board.py").write_text(FAILING_BOARDS[failure])
