"""Seed files for the validation service: PSKC (RFC 6030) via python-pskc, and CSV.

A seed file is as secret as the fobs themselves: `fob export` writes it
0600 through fobhost.outfile.
"""

import csv
import datetime
import io
import re
from pathlib import Path

import pskc

from fobcore import base32

# RFC 6030 section 4.3.1 wants an "oath." (OATH manufacturer prefix) or "iana." (enterprise number) form,
# and libpskc (pskc_get_device_manufacturer) flags any other as non-compliant.
MANUFACTURER = "oath.fobkit"
TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"


class Profile:
    """How an encrypted PSKC export is protected: cipher, MAC and PBKDF2 (docs/provisioning.md, "Exports")."""

    def __init__(self, cipher, mac, prf, iterations):
        self.cipher, self.mac, self.prf, self.iterations = cipher, mac, prf, iterations
        self.key_bytes = int(cipher[3:6]) // 8


# The default is what privacyIDEA (AES-128-CBC only, PBKDF2 always with HMAC-SHA1, MAC always HMAC-SHA1)
# and python-pskc's defaults read with the MAC check on.  Iterations are OWASP's figure for the PRF used;
# a PRF of None is PBKDF2's default, HMAC-SHA1, written by leaving the PRF element out.
PROFILES = {
    "aes128-hmac-sha1": Profile("aes128-cbc", "hmac-sha1", None, 1_300_000),
    "aes256-hmac-sha256": Profile("aes256-cbc", "hmac-sha256", "hmac-sha256", 600_000),
}
# python-pskc 1.4 writes the PRF as the element's text but reads it, as RFC 8018's XML schema has it, from
# its Algorithm attribute (pskc/serialiser.py vs pskc/parser.py): written as is, no reader would derive
# the same key.  pskc_bytes writes the attribute form.
_PRF_AS_TEXT = re.compile(rb"<(PRF|[A-Za-z0-9]+:PRF)>([^<]+)</\1>")
DEFAULT_PROFILE = "aes128-hmac-sha1"
CSV_COLUMNS = ("serial", "manufacturer", "algorithm", "digits", "period", "expiry", "secret_base32")


class ExportError(Exception):
    """A protection key or password that cannot be used; says which file and why."""


def _utc(unix_time):
    return datetime.datetime.fromtimestamp(unix_time, datetime.UTC)


def pskc_document(tokens, protection=None, profile=DEFAULT_PROFILE):
    """A pskc.PSKC of ``tokens`` ((TokenRecord, seed) pairs).

    ``protection`` is None (plaintext), ("password", text) for PBKDF2 + AES
    (RFC 6030 section 6.2) or ("psk", key bytes, key name) for a pre-shared
    AES key; the key name tells the importer which key to use.  ``profile``
    names the PROFILES entry that protects it.
    """
    document = pskc.PSKC()
    chosen = PROFILES[profile]
    if protection is not None and protection[0] == "password":
        document.encryption.setup_pbkdf2(
            protection[1], algorithm=chosen.cipher, iterations=chosen.iterations, prf=chosen.prf
        )
    elif protection is not None:
        key, name = protection[1], protection[2]
        if len(key) != chosen.key_bytes:
            raise ExportError(
                "%s: the %s profile needs a %d-bit key, this one has %d bits (make one with "
                "`openssl rand -hex %d > %s`)"
                % (name, profile, chosen.key_bytes * 8, len(key) * 8, chosen.key_bytes, name)
            )
        document.encryption.setup_preshared_key(key=key, key_name=name, algorithm=chosen.cipher)
    if protection is not None:
        document.mac.setup(algorithm=chosen.mac)
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


def pskc_bytes(tokens, protection=None, profile=DEFAULT_PROFILE):
    """The PSKC document of pskc_document as written to a file, its PRF in RFC 8018's form."""
    out = io.BytesIO()
    pskc_document(tokens, protection, profile).write(out)
    return _PRF_AS_TEXT.sub(rb'<\1 Algorithm="\2"/>', out.getvalue())


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
        text = read_file(path).decode("utf-8", "strict").split("\n", 1)[0].rstrip("\r")
    except UnicodeDecodeError:  # its message would quote a byte of the password
        raise ExportError("%s: the password file is not UTF-8 text" % path) from None
    if not text:
        raise ExportError("%s: the password file is empty" % path)
    return text


def read_psk(path):
    """A 128-, 192- or 256-bit AES key written in hex (e.g. `openssl rand -hex 16`)."""
    text = "".join(read_file(path).decode("ascii", "replace").split())
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ExportError("%s: the key file must hold the AES key in hex" % path) from None
    if len(key) not in (16, 24, 32):
        raise ExportError("%s: the AES key must be 16, 24 or 32 bytes (it has %d)" % (path, len(key)))
    return key


def read_file(path):
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ExportError("%s: %s" % (path, error.strerror)) from None
