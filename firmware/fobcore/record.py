"""The seed record: one versioned, checksummed file, replaced atomically.

Layout (big-endian): magic "FOBS", version, flags (bit 0: sealed),
algorithm index (0: no seed), digits, period (u16), expiry (i64 Unix
seconds), serial length + serial, seed length + seed, then (version 2)
the latest time the fob knew for sure (i64: its last shown code, seal or
clock correction) and how many clock corrections were forced (u16), and
a CRC-32 of all before it.  Version 1 records (without the two) are still
read, as known time 0 and no forced corrections; every save writes
version 2.  Anything that does not decode exactly is a RecordError, so
the token shows CORRUPT instead of ever computing a wrong code.
"""

import os
import struct
from binascii import crc32

from fobcore import limits

MAGIC = b"FOBS"
VERSION = 2
_READABLE = (1, 2)
RECORD_NAME = "seed.rec"
ALGORITHMS = ("", "sha1", "sha256", "sha512")  # index stored in the record
_HEAD = ">4sBBBBHq"
_HEAD_SIZE = struct.calcsize(_HEAD)
_FLAG_SEALED = 1
_TRAILER = ">qH"  # version 2: known time, forced corrections
_TRAILER_SIZE = struct.calcsize(_TRAILER)


class RecordError(ValueError):
    """The record exists but cannot be trusted; the message says why (never the seed)."""


class Record:
    """The fob's provisioned parameters; ``seed`` is b"" for a blank fob."""

    def __init__(
        self, seed=b"", algorithm="", digits=0, period=0, serial="", expiry=0, sealed=False, known=0, forced=0
    ):
        self.seed = seed
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.serial = serial
        self.expiry = expiry
        self.sealed = sealed
        self.known = known  # Unix seconds: no correction may move the clock back before this unless forced
        self.forced = forced

    def but(self, **changes):
        """A copy with ``changes`` (keyword: attribute) applied."""
        fields = {}
        for name in ("seed", "algorithm", "digits", "period", "serial", "expiry", "sealed", "known", "forced"):
            fields[name] = changes.get(name, getattr(self, name))
        return Record(**fields)

    def __repr__(self):
        return "<Record serial=%r algorithm=%s sealed=%s seed=%d bytes>" % (
            self.serial,
            self.algorithm,
            self.sealed,
            len(self.seed),
        )


def encode(record):
    serial = record.serial.encode()
    body = (
        struct.pack(
            _HEAD,
            MAGIC,
            VERSION,
            _FLAG_SEALED if record.sealed else 0,
            ALGORITHMS.index(record.algorithm),
            record.digits,
            record.period,
            record.expiry,
        )
        + bytes((len(serial),))
        + serial
        + bytes((len(record.seed),))
        + record.seed
        + struct.pack(_TRAILER, record.known, record.forced)
    )
    return body + struct.pack(">I", crc32(body) & 0xFFFFFFFF)


def decode(data):
    """The Record in ``data``; RecordError naming the first thing wrong."""
    if len(data) < _HEAD_SIZE + 6:
        raise RecordError("record truncated")
    magic, version, flags, algorithm, digits, period, expiry = struct.unpack(_HEAD, data[:_HEAD_SIZE])
    if magic != MAGIC:
        raise RecordError("not a seed record")
    if struct.unpack(">I", data[-4:])[0] != crc32(data[:-4]) & 0xFFFFFFFF:
        raise RecordError("record checksum mismatch")
    if version not in _READABLE:
        raise RecordError("unknown record version %d" % version)
    end = len(data) - 4 - (_TRAILER_SIZE if version >= 2 else 0)
    at = _HEAD_SIZE
    serial_end = at + 1 + data[at]
    if serial_end >= end:
        raise RecordError("record truncated")
    serial = data[at + 1 : serial_end]
    seed_end = serial_end + 1 + data[serial_end]
    if seed_end != end:
        raise RecordError("record length mismatch")
    known, forced = struct.unpack(_TRAILER, data[end:-4]) if version >= 2 else (0, 0)
    seed = bytes(data[serial_end + 1 : seed_end])
    if flags & ~_FLAG_SEALED or algorithm >= len(ALGORITHMS):
        raise RecordError("record has unknown flags or algorithm")
    if len(serial) > limits.MAX_SERIAL or not all(48 <= c <= 57 for c in serial):
        raise RecordError("record has an invalid serial number")
    if seed or algorithm:
        if not limits.MIN_SEED <= len(seed) <= limits.MAX_SEED or not algorithm:
            raise RecordError("record has an invalid seed")
        if not limits.MIN_DIGITS <= digits <= limits.MAX_DIGITS or not limits.MIN_PERIOD <= period <= limits.MAX_PERIOD:
            raise RecordError("record has invalid code parameters")
    sealed = bool(flags & _FLAG_SEALED)
    return Record(seed, ALGORITHMS[algorithm], digits, period, serial.decode(), expiry, sealed, known, forced)


class Files:
    """The file operations a Store needs; tests substitute one that fails on cue."""

    def open(self, path, mode):
        return open(path, mode)

    def rename(self, old, new):
        os.rename(old, new)  # littlefs and POSIX replace ``new`` atomically

    def remove(self, path):
        os.remove(path)

    def exists(self, path):
        try:
            os.stat(path)
            return True
        except OSError:
            return False

    def sync(self):
        sync = getattr(os, "sync", None)
        if sync:
            sync()


class Store:
    """The record file in a directory: load, atomic save, erase."""

    def __init__(self, directory, files=None):
        self.path = directory + "/" + RECORD_NAME
        self.temp = self.path + ".new"
        self.files = files or Files()

    def load(self):
        """The stored Record, None if there is none; RecordError if untrustworthy, OSError if unreadable."""
        try:
            f = self.files.open(self.path, "rb")
        except OSError:
            if self.files.exists(self.path):
                raise
            return None
        try:
            data = f.read(_HEAD_SIZE + 2 * 256 + _TRAILER_SIZE + 8)
        finally:
            f.close()
        return decode(data)

    def save(self, record):
        """Replace the record: write a temporary file, sync, rename over the old one."""
        data = encode(record)
        f = self.files.open(self.temp, "wb")
        try:
            written = f.write(data)
            f.flush()
        finally:
            f.close()
        if written != len(data):
            raise OSError(28)  # ENOSPC: a short write must never replace the record
        self.files.sync()
        self.files.rename(self.temp, self.path)
        self.files.sync()

    def erase(self):
        """Remove the record (and any half-written temporary file)."""
        for path in (self.temp, self.path):
            try:
                self.files.remove(path)
            except OSError:
                if self.files.exists(path):
                    raise
        self.files.sync()
