"""A board's flash as `fob flash` lays it out, with a seed record, for the VMs to boot from."""

import shutil
import tempfile
import time
from pathlib import Path

from fakeboard import FakeBoard

from fobcore.token import Token
from fobhost.flashing import BoardPackage, compile_firmware

SEED = bytes(range(20))
SERIAL = "12345678"


def flash_firmware(flash, board="sim"):
    """Compile the firmware and ``board``'s files into ``flash`` as `fob flash` installs them."""
    with tempfile.TemporaryDirectory() as staging:
        for target, local in compile_firmware(BoardPackage(board), Path(staging)):
            destination = Path(flash) / target.lstrip("/")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, destination)


def store_record(flash, sealed=True):
    """Provision (and seal) a token whose record lives in ``flash``/data; return the record's bytes."""
    token = Token(FakeBoard(Path(flash) / "data", unix_time=int(time.time())))
    token.provision(SEED, "sha1", 6, 30, SERIAL, int(time.time()) + 86400 * 365)
    if sealed:
        token.seal()
    return (Path(flash) / "data" / "seed.rec").read_bytes()
