"""Seed files for the validation service: PSKC (RFC 6030) via python-pskc, and CSV.

A seed file is as secret as the fobs themselves: `fob export` writes it
0600 through fobhost.outfile.
"""

import csv
import datetime
import io
from pathlib import Path

import pskc

from fobcore import base32

MANUFACTURER = "fobkit"
TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
PBKDF2_ITERATIONS = 600_000  # OWASP's figure for PBKDF2-HMAC-SHA256
CSV_COLUMNS = ("serial", "manufacturer", "algorithm", "digits", "period", "expiry", "secret_base32")


class ExportError(Exception):
    """A protection key or password that cannot be used; says which file and why."""


def _utc(unix_time):
    return datetime.datetime.fromtimestamp(unix_time, datetime.UTC)


def pskc_document(tokens, protection=None):
    """A pskc.PSKC of ``tokens`` ((TokenRecord, seed) pairs).

    ``protection`` is None (plaintext), ("password", text) for PBKDF2 + AES
    (RFC 6030 section 6.2) or ("psk", key bytes, key name) for a pre-shared
    AES key; the key name tells the importer which key to use.
    """
    document = pskc.PSKC()
    if protection is not None and protection[0] == "password":
        document.encryption.setup_pbkdf2(protection[1], algorithm="aes256-cbc", iterations=PBKDF2_ITERATIONS)
    elif protection is not None:
        key, name = protection[1], protection[2]
        document.encryption.setup_preshared_key(key=key, key_name=name, algorithm="aes%d-cbc" % (len(key) * 8))
    if protection is not None:
        document.mac.setup(algorithm="hmac-sha256")
    for record, seed in tokens:
        document.add_key(
            id=record.serial,
            secret=seed,
            algorithm=TOTP_URI,
            algorithm_suite="HMAC-%s" % record.algorithm.upper(),
            time_interval=record.period,
            time_offset=0,
            response_length=record.digits,
            response_encoding="DECIMAL",
            manufacturer=MANUFACTURER,
            serial=record.serial,
            expiry_date=_utc(record.expiry),
        )
    return document


def csv_text(tokens):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record, seed in tokens:
        expiry = _utc(record.expiry).strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow(
            (record.serial, MANUFACTURER, record.algorithm, record.digits, record.period, expiry, base32.encode(seed))
        )
    return out.getvalue().encode()


def read_password(path):
    """The first line of ``path``, without its line end."""
    try:
        text = _read(path).decode("utf-8", "strict").split("\n", 1)[0].rstrip("\r")
    except UnicodeDecodeError:  # its message would quote a byte of the password
        raise ExportError("%s: the password file is not UTF-8 text" % path) from None
    if not text:
        raise ExportError("%s: the password file is empty" % path)
    return text


def read_psk(path):
    """A 128-, 192- or 256-bit AES key written in hex (e.g. `openssl rand -hex 32`)."""
    text = "".join(_read(path).decode("ascii", "replace").split())
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ExportError("%s: the key file must hold the AES key in hex" % path) from None
    if len(key) not in (16, 24, 32):
        raise ExportError("%s: the AES key must be 16, 24 or 32 bytes (it has %d)" % (path, len(key)))
    return key


def _read(path):
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ExportError("%s: %s" % (path, error.strerror)) from None
