"""The seed record: interrupted writes leave the old or the new record, hostile files never give a code."""

import struct
from binascii import crc32

import pytest
from fakeboard import FakeBoard
from hypothesis import given
from hypothesis import strategies as st

from fobcore.record import Files, Record, RecordError, Store, decode, encode
from fobcore.token import Token, TokenError

NOW = 1_800_000_000
OLD = Record(b"o" * 20, "sha1", 6, 60, "11111111", NOW + 1000)
NEW = Record(b"n" * 64, "sha512", 10, 3600, "222222222222", NOW + 2000, sealed=True)


class PowerCut(OSError):
    """The power failed: the operation in progress and everything after it did not happen."""


class FlakyFiles(Files):
    """Real files, but the power fails before operation number ``budget`` (writes count per byte).

    With ``transient`` the failure happens once and later operations work (a write error, not a power cut).
    """

    def __init__(self, budget, transient=False):
        self.budget = budget
        self.transient = transient

    def spend(self):
        if self.budget == 0:
            self.budget = -1 if self.transient else 0
            raise PowerCut(5)
        self.budget -= 1

    def open(self, path, mode):
        self.spend()
        return FlakyFile(self, super().open(path, mode))

    def rename(self, old, new):
        self.spend()
        super().rename(old, new)

    def remove(self, path):
        self.spend()
        super().remove(path)

    def sync(self):
        self.spend()


class FlakyFile:
    def __init__(self, files, f):
        self.files = files
        self.f = f

    def write(self, data):
        for i in range(len(data)):
            self.files.spend()
            self.f.write(data[i : i + 1])
            self.f.flush()
        return len(data)

    def read(self, size):
        self.files.spend()
        return self.f.read(size)

    def flush(self):
        self.files.spend()
        self.f.flush()

    def close(self):
        self.f.close()  # a real close after a power cut is harmless: its bytes are already on disk


def interrupted_everywhere(tmp_path, operation):
    """Run ``operation(store)`` with the power failing at each step in turn; yield what survives."""
    budget = 0
    while True:
        directory = tmp_path / str(budget)
        directory.mkdir()
        Store(str(directory)).save(OLD)
        try:
            operation(Store(str(directory), FlakyFiles(budget)))
        except PowerCut:
            yield Store(str(directory)).load()
            budget += 1
            continue
        yield Store(str(directory)).load()
        return


@pytest.mark.parametrize("record", [NEW, Record(serial="11111111")])
def test_an_interrupted_save_leaves_the_old_or_the_new_record(tmp_path, record):
    survivors = [encode(r) for r in interrupted_everywhere(tmp_path, lambda store: store.save(record))]
    assert len(survivors) > len(encode(record))  # the power failed at every byte written
    assert set(survivors) == {encode(OLD), encode(record)}
    assert survivors[-1] == encode(record)


def test_an_interrupted_erase_leaves_the_old_record_or_none(tmp_path):
    survivors = list(interrupted_everywhere(tmp_path, lambda store: store.erase()))
    assert {None if r is None else encode(r) for r in survivors} == {encode(OLD), None}


def test_the_next_save_after_a_power_cut_succeeds(tmp_path):
    store = Store(str(tmp_path), FlakyFiles(10))
    with pytest.raises(PowerCut):
        store.save(NEW)
    assert (tmp_path / "seed.rec.new").exists()
    Store(str(tmp_path)).save(NEW)
    assert encode(Store(str(tmp_path)).load()) == encode(NEW)


def test_a_failed_provisioning_write_is_a_storage_error_and_changes_nothing(tmp_path):
    board = FakeBoard(tmp_path, NOW)
    Store(str(tmp_path)).save(OLD)
    for budget in range(0, 64, 7):  # the save takes about 70 operations
        token = Token(board)
        token.store.files = FlakyFiles(budget, transient=True)
        with pytest.raises(TokenError) as raised:
            token.provision(b"s" * 32, "sha256", 8, 30, "33333333", NOW + 10)
        assert raised.value.code == "storage"
        assert token.state == "ACTIVE" and token.serial == "11111111"


def test_a_short_write_never_replaces_the_record(tmp_path):
    class FullDisk(Files):
        def open(self, path, mode):
            f = super().open(path, mode)
            if "w" in mode:
                real_write = f.write
                f.write = lambda data: real_write(data[:7])
            return f

    Store(str(tmp_path)).save(OLD)
    with pytest.raises(OSError):
        Store(str(tmp_path), FullDisk()).save(NEW)
    assert encode(Store(str(tmp_path)).load()) == encode(OLD)


def sealed_with_crc(body):
    return body + struct.pack(">I", crc32(body))


GOOD = encode(NEW)
HOSTILE = {
    "empty file": b"",
    "other magic": b"XXXX" + GOOD[4:],
    "version 3": sealed_with_crc(GOOD[:4] + b"\x03" + GOOD[5:-4]),
    "version 1 with a version 2 trailer": sealed_with_crc(GOOD[:4] + b"\x01" + GOOD[5:-4]),
    "version 0": sealed_with_crc(GOOD[:4] + b"\x00" + GOOD[5:-4]),
    "unknown flag": sealed_with_crc(GOOD[:5] + b"\x81" + GOOD[6:-4]),
    "algorithm 9": sealed_with_crc(GOOD[:6] + b"\x09" + GOOD[7:-4]),
    "digits 11": sealed_with_crc(GOOD[:7] + b"\x0b" + GOOD[8:-4]),
    "digits 5": sealed_with_crc(GOOD[:7] + b"\x05" + GOOD[8:-4]),
    "period 0": sealed_with_crc(GOOD[:8] + b"\x00\x00" + GOOD[10:-4]),
    "period 3601": sealed_with_crc(GOOD[:8] + b"\x0e\x11" + GOOD[10:-4]),
    "trailing byte": sealed_with_crc(GOOD[:-4] + b"\x00"),
    "serial length past the end": sealed_with_crc(GOOD[:18] + b"\xff" + GOOD[19:-4]),
    "seed length past the end": sealed_with_crc(GOOD[:31] + b"\xff" + GOOD[32:-4]),
    "letters in the serial": sealed_with_crc(GOOD[:19] + b"A" + GOOD[20:-4]),
    "short seed": encode(Record(b"s" * 10, "sha1", 6, 60, "11111111", NOW)),
    "long seed": encode(Record(b"s" * 65, "sha1", 6, 60, "11111111", NOW)),
    "seed without algorithm": encode(Record(b"s" * 20, "", 6, 60, "11111111", NOW)),
    "algorithm without seed": encode(Record(b"", "sha1", 6, 60, "11111111", NOW)),
    "a megabyte of zeros": bytes(1 << 20),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_records_are_corrupt_never_a_code(tmp_path, name):
    (tmp_path / "seed.rec").write_bytes(HOSTILE[name])
    token = Token(FakeBoard(tmp_path, NOW))
    assert token.state == "CORRUPT" and token.info()["problem"]
    for call in (token.check, token.code_now, token.seal):
        with pytest.raises(TokenError) as raised:
            call()
        assert raised.value.code == "corrupt"
    board = token.board
    assert not board.kbd_intr_enabled  # the damaged record may hold a sealed seed: no REPL
    token.provision(b"s" * 20, "sha1", 6, 60, "12345678", NOW + 10)  # recovery: provision over it
    assert token.state == "ACTIVE" and board.kbd_intr_enabled


def test_every_truncation_and_every_bit_flip_is_detected():
    for length in range(len(GOOD)):
        with pytest.raises(RecordError):
            decode(GOOD[:length])
    for bit in range(len(GOOD) * 8):
        flipped = bytearray(GOOD)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(RecordError):
            decode(bytes(flipped))


@given(st.binary(max_size=200))
def test_any_bytes_decode_to_a_valid_record_or_a_record_error(data):
    try:
        record = decode(data)
    except RecordError as error:
        # The message never echoes the record; a byte or two may match its words by chance.
        assert len(data) < 3 or data.hex() not in str(error)
        return
    assert encode(record) == data or (data[4] == 1 and encode(record) == version_2_of(data))


def version_1(record):
    """How firmware before clock corrections wrote ``record``: no known time, no forced count."""
    body = encode(record)[:-14]
    return sealed_with_crc(body[:4] + b"\x01" + body[5:])


def version_2_of(data):
    """A version 1 record as it is saved again now."""
    return sealed_with_crc(data[:4] + b"\x02" + data[5:-4] + bytes(10))


def test_a_version_1_record_is_still_read_and_saved_as_version_2(tmp_path):
    (tmp_path / "seed.rec").write_bytes(version_1(NEW))
    token = Token(FakeBoard(tmp_path, NOW))
    assert token.state == "SEALED" and token.record.seed == NEW.seed and token.record.serial == NEW.serial
    assert (token.record.known, token.record.forced) == (0, 0)
    token.code_now()  # a shown code is remembered: the record is written again, as version 2
    saved = (tmp_path / "seed.rec").read_bytes()
    assert saved[4] == 2 and decode(saved).known == NOW and decode(saved).seed == NEW.seed


def test_an_interrupted_upgrade_leaves_the_version_1_or_the_version_2_record(tmp_path):
    upgraded = NEW.but(known=NOW)
    budget = 0
    while True:
        directory = tmp_path / str(budget)
        directory.mkdir()
        (directory / "seed.rec").write_bytes(version_1(NEW))
        try:
            Store(str(directory), FlakyFiles(budget)).save(upgraded)
        except PowerCut:
            survivor = (directory / "seed.rec").read_bytes()
            assert survivor in (version_1(NEW), encode(upgraded))
            budget += 1
            continue
        assert (directory / "seed.rec").read_bytes() == encode(upgraded)
        break
    assert budget > len(encode(upgraded))


def test_an_unreadable_storage_is_corrupt(tmp_path):
    (tmp_path / "seed.rec").mkdir()  # open() of a directory fails with an OSError other than "missing"
    token = Token(FakeBoard(tmp_path, NOW))
    assert token.state == "CORRUPT" and "storage unreadable" in token.info()["problem"]
