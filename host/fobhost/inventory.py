"""The token inventory: one SQLite file of provisioned fobs, seeds encrypted.

Seeds are sealed with AES-256-GCM under a key file created on first use
(mode 0600, next to the database); the serial number is the associated
data, so a seed copied onto another row does not decrypt.  Automatic serial
numbers advance only when a fob is recorded, in the same transaction, and
never go back.  Every clock correction of a sealed fob (`fob sync`) is
logged: serial, old and new time, who, forced or not.
"""

import os
import secrets
import sqlite3
import time
from pathlib import Path

import platformdirs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fobhost import serials

KEY_BYTES = 32
NONCE_BYTES = 12
DEFAULT_PREFIX = "10"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    serial TEXT PRIMARY KEY CHECK (length(serial) BETWEEN %d AND %d),
    algorithm TEXT NOT NULL,
    digits INTEGER NOT NULL,
    period INTEGER NOT NULL,
    expiry INTEGER NOT NULL,
    provisioned_at INTEGER NOT NULL,
    board TEXT NOT NULL,
    firmware TEXT NOT NULL,
    seed_nonce BLOB NOT NULL,
    seed_ciphertext BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS serial_counters (prefix TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clock_corrections (
    serial TEXT NOT NULL REFERENCES tokens (serial),
    at INTEGER NOT NULL,
    old_time INTEGER,
    new_time INTEGER NOT NULL,
    who TEXT NOT NULL,
    forced INTEGER NOT NULL CHECK (forced IN (0, 1)),
    aging INTEGER
);
""" % (serials.MIN_SERIAL, serials.MAX_SERIAL)
# The columns each table must have; TokenRecord and Correction have one attribute a column.
TOKEN_COLUMNS = ("serial", "algorithm", "digits", "period", "expiry", "provisioned_at", "board", "firmware")
CORRECTION_COLUMNS = ("serial", "at", "old_time", "new_time", "who", "forced", "aging")
_COLUMNS = {
    "tokens": TOKEN_COLUMNS + ("seed_nonce", "seed_ciphertext"),
    "serial_counters": ("prefix", "next"),
    "settings": ("name", "value"),
    "clock_corrections": CORRECTION_COLUMNS,
}


def _insert(table):
    columns = _COLUMNS[table]
    return "INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(columns), ", ".join("?" * len(columns)))  # noqa: S608 - constants only


def _select(columns, table, rest):
    return "SELECT %s FROM %s %s" % (", ".join(columns), table, rest)  # noqa: S608 - constants only


_INSERT_TOKEN = _insert("tokens")
_SELECT_TOKENS = _select(TOKEN_COLUMNS, "tokens", "ORDER BY serial")
_INSERT_CORRECTION = _insert("clock_corrections")
_SELECT_CORRECTIONS = _select(CORRECTION_COLUMNS, "clock_corrections", "WHERE serial = ? ORDER BY rowid")


class InventoryError(Exception):
    """The inventory or its key cannot be used; the message says which file and why."""


def default_path():
    """The inventory every `fob` command uses unless told otherwise (XDG data directory)."""
    return Path(platformdirs.user_data_dir("fobkit", appauthor=False)) / "inventory.sqlite3"


def key_path_for(path):
    return Path(str(path) + ".key")


class SerialsUsedUp(InventoryError):
    """Every automatic number under the prefix is taken."""

    def __init__(self, prefix):
        super().__init__("serial prefix %s has no numbers left: choose another with --serial-prefix" % prefix)
        self.prefix = prefix


class TokenRecord:
    """One provisioned fob as the inventory lists it; the seed is fetched separately."""

    __slots__ = TOKEN_COLUMNS

    def __init__(self, *row):
        for name, value in zip(TOKEN_COLUMNS, row, strict=True):
            setattr(self, name, value)

    def __repr__(self):
        return "TokenRecord(serial=%r, algorithm=%r, digits=%d, period=%d)" % (
            self.serial,
            self.algorithm,
            self.digits,
            self.period,
        )


class Correction:
    """One logged clock correction; ``old_time`` is None when the fob's clock was lost, ``aging`` the aging
    trim it wrote (None: left as it was)."""

    __slots__ = CORRECTION_COLUMNS

    def __init__(self, *row):
        for name, value in zip(CORRECTION_COLUMNS, row, strict=True):
            setattr(self, name, value)
        self.forced = bool(self.forced)


class Inventory:
    """The inventory at ``path``, created with its key file when missing unless ``create`` is false."""

    def __init__(self, path=None, create=True):
        self.path = Path(path) if path else default_path()
        self.key_path = key_path_for(self.path)
        if not create and not self.path.exists():
            raise InventoryError("%s: no inventory there (fob provision creates one)" % self.path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.path.parent == default_path().parent:
            self.path.parent.chmod(0o700)  # fobkit's own directory, 0755 if `fob sim` made it first
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite's journals copy this mode
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.executescript(_SCHEMA)
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                self._db.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
            elif version != SCHEMA_VERSION:
                raise InventoryError("%s: inventory schema %d is not supported" % (self.path, version))
            self._check_columns()
        except (sqlite3.DatabaseError, OSError) as error:
            raise InventoryError("%s: not a usable inventory (%s)" % (self.path, error)) from None
        try:
            self._aead = AESGCM(self._load_key())
        except BaseException:
            self._db.close()
            raise

    def _check_columns(self):
        for table, wanted in _COLUMNS.items():
            have = {row[1] for row in self._db.execute("PRAGMA table_info(%s)" % table)}
            missing = [column for column in wanted if column not in have]
            if missing:
                self._db.close()
                raise InventoryError(
                    "%s: not a usable inventory (table %s lacks %s)" % (self.path, table, ", ".join(missing))
                )

    def close(self):
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _load_key(self):
        """The key file's key, made on first use; never a new key for seeds sealed under a lost one."""
        if not self.key_path.exists():
            sealed = self._db.execute("SELECT count(*) FROM tokens").fetchone()[0]
            if sealed:
                raise InventoryError(
                    "%s: key file %s is missing: the %d seed(s) in this inventory cannot be decrypted without it;"
                    " restore it from a backup" % (self.path, self.key_path, sealed)
                )
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self._read_key()
        with os.fdopen(fd, "wb") as key_file:
            key_file.write(secrets.token_bytes(KEY_BYTES))
        return self._read_key()

    def _read_key(self):
        mode = self.key_path.stat().st_mode
        if mode & 0o077:
            raise InventoryError(
                "%s: key file is readable by others (mode %o); chmod 600 it" % (self.key_path, mode & 0o777)
            )
        key = self.key_path.read_bytes()
        if len(key) != KEY_BYTES:
            raise InventoryError("%s: not an inventory key file (%d bytes)" % (self.key_path, len(key)))
        return key

    # -- serial numbers -----------------------------------------------------
    def prefix(self):
        row = self._db.execute("SELECT value FROM settings WHERE name = 'serial_prefix'").fetchone()
        prefix = row[0] if row else DEFAULT_PREFIX
        try:
            serials.check_prefix(prefix)
        except (ValueError, AttributeError):
            raise InventoryError(
                "%s: the stored serial prefix %r is damaged; set one with --set-prefix" % (self.path, prefix)
            ) from None
        return prefix

    def set_prefix(self, prefix):
        serials.check_prefix(prefix)
        self._db.execute("INSERT OR REPLACE INTO settings (name, value) VALUES ('serial_prefix', ?)", (prefix,))

    def _next_sequence(self, prefix):
        row = self._db.execute("SELECT next FROM serial_counters WHERE prefix = ?", (prefix,)).fetchone()
        return row[0] if row else 1

    def next_serial(self):
        """The automatic serial number the next recorded fob gets (nothing is reserved).

        Raises SerialsUsedUp when the prefix has none left: a legitimate state, said in one line.
        """
        prefix = self.prefix()
        sequence = self._next_sequence(prefix)
        if not isinstance(sequence, int):
            raise InventoryError("%s: the serial counter of prefix %s is damaged" % (self.path, prefix))
        while sequence <= serials.capacity(prefix):
            serial = serials.automatic(prefix, sequence)
            if not self.contains(serial):
                return serial
            sequence += 1
        raise SerialsUsedUp(prefix)

    def contains(self, serial):
        return self._db.execute("SELECT 1 FROM tokens WHERE serial = ?", (serial,)).fetchone() is not None

    # -- tokens -------------------------------------------------------------
    def record(self, serial, seed, algorithm, digits, period, expiry, board, firmware):
        """Add a sealed fob; advances the automatic counter past ``serial`` if it is one of its numbers."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        ciphertext = self._aead.encrypt(nonce, bytes(seed), serial.encode())
        prefix = self.prefix()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    _INSERT_TOKEN,
                    (serial, algorithm, digits, period, expiry, int(time.time()), board, firmware, nonce, ciphertext),
                )
                sequence = self._sequence_of(prefix, serial)
                if sequence is not None and sequence >= self._next_sequence(prefix):
                    self._db.execute(
                        "INSERT OR REPLACE INTO serial_counters (prefix, next) VALUES (?, ?)", (prefix, sequence + 1)
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.IntegrityError:
            raise InventoryError("serial number %s is already in the inventory" % serial) from None

    @staticmethod
    def _sequence_of(prefix, serial):
        """The sequence number of ``serial`` if it is an automatic number under ``prefix``."""
        if len(serial) != serials.AUTO_LENGTH or not serial.startswith(prefix) or not serials.luhn_valid(serial):
            return None
        return int(serial[len(prefix) : -1])

    def tokens(self, wanted=None):
        """TokenRecords in serial order; ``wanted`` (serial numbers) must all exist."""
        rows = self._db.execute(_SELECT_TOKENS).fetchall()
        found = [self._record_of(row) for row in rows]
        if wanted:
            by_serial = {t.serial: t for t in found}
            missing = [s for s in wanted if s not in by_serial]
            if missing:
                raise InventoryError("not in the inventory: %s" % ", ".join(missing))
            found = [by_serial[s] for s in dict.fromkeys(wanted)]
        return found

    def _record_of(self, row):
        """A TokenRecord of a row whose every field has the type the schema means (SQLite does not enforce it)."""
        serial, algorithm, digits, period, expiry, provisioned_at, board, firmware = row
        texts, numbers = (serial, algorithm, board, firmware), (digits, period, expiry, provisioned_at)
        if not (all(isinstance(v, str) for v in texts) and all(type(v) is int for v in numbers)):
            shown = serial if isinstance(serial, str) and serial.isascii() and serial.isprintable() else "?"
            raise InventoryError("%s: the record of fob %s is damaged (a field of the wrong type)" % (self.path, shown))
        return TokenRecord(*row)

    def seed(self, serial):
        """The decrypted seed of ``serial`` (bytes)."""
        row = self._db.execute("SELECT seed_nonce, seed_ciphertext FROM tokens WHERE serial = ?", (serial,)).fetchone()
        if row is None:
            raise InventoryError("not in the inventory: %s" % serial)
        if not all(isinstance(value, bytes) for value in row):
            raise InventoryError("%s: the sealed seed of %s is damaged" % (self.path, serial))
        try:
            return self._aead.decrypt(row[0], row[1], serial.encode())
        except InvalidTag:
            raise InventoryError("seed of %s does not decrypt: wrong key file %s?" % (serial, self.key_path)) from None

    # -- clock corrections ----------------------------------------------------
    def record_correction(self, serial, old_time, new_time, who, forced, aging=None):
        """Log a clock correction the fob ``serial`` accepted."""
        self._db.execute(
            _INSERT_CORRECTION, (serial, int(time.time()), old_time, new_time, who, int(bool(forced)), aging)
        )

    def corrections(self, serial):
        """The clock corrections of ``serial``, oldest first."""
        return [Correction(*row) for row in self._db.execute(_SELECT_CORRECTIONS, (serial,)).fetchall()]
