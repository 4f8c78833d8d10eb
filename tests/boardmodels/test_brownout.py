"""A power cut while the seed record is written leaves the old record or the new one, never a broken one.

The real firmware gets PROVISION over its (modelled) USB serial and writes the record
through fobcore.record onto the board's filesystem; the power fails after ``budget``
bytes of it, or between the write and the rename.
"""

import os

import pytest
from modelfob import SERIAL, START

from fobcore import base32, wire
from fobcore.record import Record, Store, encode
from fobsim.models.fob import BOARDS, Fob

EXPIRY = START + 2 * 365 * 86400
OLD = Record(bytes(range(20)), "sha1", 6, 30, SERIAL, START + 365 * 86400, sealed=False)
NEW = Record(bytes(range(100, 132)), "sha256", 8, 60, "20269999", EXPIRY)
FIELDS = (
    ("seed", base32.encode(NEW.seed)),
    ("alg", "sha256"),
    ("digits", 8),
    ("period", 60),
    ("serial", "20269999"),
    ("expiry", EXPIRY),
)


def _frame(seq, command, fields=()):
    return wire.encode_frame(seq, wire.format_fields(command, fields))


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("budget", [0, 1, 17, 40, len(encode(NEW)) - 1, "before rename", None])
def test_power_cut_during_provision_keeps_the_old_or_the_new_record(tmp_path, board, budget):
    fob = Fob(board, tmp_path / "flash", utc=START, usb=True)
    os.makedirs(fob.flash.path("/data"))
    store = Store(fob.flash.path("/data"))
    store.save(OLD)
    fob.set_clock(START)

    def provision():
        fob.flash.fail_after = len(encode(NEW)) if budget == "before rename" else budget
        fob.send(_frame(2, "PROVISION", FIELDS))

    fob.world.at(2, lambda: fob.send(_frame(1, "INFO")))
    fob.world.at(3, provision)
    fob.press_at(10)  # power back: the fob boots again
    fob.run_until(12)
    record = store.load()
    if budget is None:
        assert (record.seed, record.serial) == (NEW.seed, NEW.serial) and len(fob.boots) == 1
        assert b"OK" in bytes(fob.serial.outgoing)
    else:
        assert (record.seed, record.serial) == (OLD.seed, OLD.serial), "a cut write replaced the record"
        assert [t for t, _ in fob.boots][-1] >= 10  # it did lose power, and came back
