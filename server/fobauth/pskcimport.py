"""Token seeds from PSKC (RFC 6030) documents via python-pskc: plain, password-protected (PBKDF2)
or protected by a pre-shared AES key.

Only TOTP keys with decimal responses are accepted; every key must carry a
serial number of 8 to 12 digits and a secret.  A document is taken whole or
not at all, and error messages name the key's serial, never its secret.

Documents with a DTD are refused before python-pskc sees them: python-pskc
parses with lxml when it is installed, which expands internal entities,
and with defusedxml only when it is not, so the refusal is made here,
whatever parser python-pskc picks.  PSKC documents have no use for a DTD.

The document chooses its own key-derivation parameters, so they are bounded
before any work (see _check_derivation): one document costs at most about a
second of CPU.  Encrypted values must carry a MAC, which python-pskc checks
only when one is present.
"""

import datetime
import hashlib
import io

import defusedxml
import pskc
from defusedxml import ElementTree as safe_xml
from pskc.exceptions import DecryptionError, PSKCError
from pskc.key import EncryptedValue

from fobauth import entry, settings
from fobauth.errors import BadPskc, BadSerial
from fobauth.settings import MAX_PBKDF2_WORK, MAX_SALT_BYTES, MIN_SALT_BYTES
from fobcore import otp

TOTP_URN = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
# the ciphers RFC 6030 section 6.1 names, by their python-pskc URI ending, with their key length
CIPHERS = {
    "#aes128-cbc": 16,
    "#aes192-cbc": 24,
    "#aes256-cbc": 32,
    "#kw-aes128": 16,
    "#kw-aes192": 24,
    "#kw-aes256": 32,
}
PRFS = ("sha1", "sha224", "sha256", "sha384", "sha512")
_ENCRYPTED_FIELDS = ("_secret", "_counter", "_time_offset", "_time_interval", "_time_drift")
_SUITES = {None: "sha1", "": "sha1", "HMAC-SHA1": "sha1", "HMAC-SHA256": "sha256", "HMAC-SHA512": "sha512"}


class TokenSeed:
    """One token read from a document.  The secret is kept out of repr."""

    __slots__ = ("serial", "secret", "algorithm", "digits", "period", "expiry", "drift")

    def __init__(self, serial, secret, algorithm, digits, period, expiry, drift):
        self.serial = serial
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.expiry = expiry
        self.drift = drift

    def __repr__(self):
        return "<TokenSeed %s %s/%d digits/%ds>" % (self.serial, self.algorithm, self.digits, self.period)


def _expiry(key):
    expiry = key.expiry_date
    if expiry is None:
        return None
    if expiry.tzinfo is None:  # RFC 6030 dates are UTC unless they say otherwise
        expiry = expiry.replace(tzinfo=datetime.UTC)
    return int(expiry.timestamp())


def _token(key):
    if key.algorithm != TOTP_URN:
        raise BadPskc("key %s is not TOTP (%s)" % (key.serial, key.algorithm))
    try:
        serial = entry.serial(key.serial or "")
    except BadSerial:
        raise BadPskc("a key has no serial number of 8 to 12 digits") from None
    algorithm = _SUITES.get((key.algorithm_suite or "").upper())
    if algorithm is None:
        raise BadPskc("key %s: unsupported algorithm suite" % serial)
    if (key.response_encoding or "DECIMAL").upper() != "DECIMAL":
        raise BadPskc("key %s: responses must be DECIMAL" % serial)
    digits = key.response_length or 6
    period = key.time_interval or otp.DEFAULT_PERIOD
    try:
        otp.check_digits(digits)
        otp.check_period(period)
    except otp.OtpError as error:
        raise BadPskc("key %s: %s" % (serial, error)) from None
    if key.time_offset:
        raise BadPskc("key %s: a TimeOffset is not supported" % serial)
    secret = key.secret
    if not secret:
        raise BadPskc("key %s has no secret" % serial)
    return TokenSeed(serial, bytes(secret), algorithm, digits, period, _expiry(key), key.time_drift or 0)


def _cipher_key_length(parsed):
    algorithm = parsed.encryption.algorithm or ""
    for ending, length in CIPHERS.items():
        if algorithm.endswith(ending):
            return length
    raise BadPskc("the PSKC document's encryption is not AES-CBC or AES key wrap")


def pbkdf2_work(prf, iterations, key_length):
    """The cost of a PBKDF2 derivation in HMAC-SHA1-iteration units."""
    digest = hashlib.new(prf)
    blocks = -(-key_length // digest.digest_size)
    return iterations * blocks * (2 if digest.block_size > 64 else 1)


def _check_derivation(parsed, key_length):
    """Refuse key-derivation parameters that are unusable or too costly, before deriving anything."""
    derivation = parsed.encryption.derivation
    if not (derivation.algorithm or "").endswith("#pbkdf2"):
        raise BadPskc("the PSKC document's key derivation is not PBKDF2")
    prf = (derivation.pbkdf2_prf or "hmac-sha1").rpartition("#")[2].removeprefix("hmac-")
    if prf not in PRFS:
        raise BadPskc("the PSKC document's PBKDF2 function is not HMAC-SHA1 or HMAC-SHA2")
    iterations, length, salt = derivation.pbkdf2_iterations, derivation.pbkdf2_key_length, derivation.pbkdf2_salt
    if length is None:  # RFC 8018 lets the key length follow from the cipher
        derivation.pbkdf2_key_length = length = key_length
    if length != key_length:
        raise BadPskc("the PSKC document's PBKDF2 key length does not fit its cipher")
    if not isinstance(iterations, int) or iterations < 1:
        raise BadPskc("the PSKC document's PBKDF2 iteration count is missing or not positive")
    if pbkdf2_work(prf, iterations, length) > MAX_PBKDF2_WORK:
        raise BadPskc("the PSKC document's PBKDF2 iteration count is too high (at most %d)" % _most(prf, length))
    if not salt or not MIN_SALT_BYTES <= len(salt) <= MAX_SALT_BYTES:
        raise BadPskc("the PSKC document's PBKDF2 salt must be %d to %d bytes" % (MIN_SALT_BYTES, MAX_SALT_BYTES))


def _most(prf, key_length):
    return MAX_PBKDF2_WORK // pbkdf2_work(prf, 1, key_length)


def _check_macs(parsed):
    """Every CBC-encrypted value carries a MAC (python-pskc checks it only when it is there)."""
    if "-cbc" not in (parsed.encryption.algorithm or ""):
        return  # AES key wrap carries its own integrity check
    mac = (parsed.mac.algorithm or "").rpartition("#")[2]
    if mac and mac.removeprefix("hmac-") not in PRFS:
        raise BadPskc("the PSKC document's MAC is not HMAC-SHA1 or HMAC-SHA2")
    for key in parsed.keys:
        for field in _ENCRYPTED_FIELDS:
            value = getattr(key, field, None)
            if isinstance(value, EncryptedValue) and not (value.mac_value and parsed.mac.algorithm):
                raise BadPskc("key %s: an encrypted value has no MAC" % (key.serial or "?"))


def _open(parsed, password, psk):
    """Set the document's key from the password or the pre-shared key, within bounds."""
    key_length = _cipher_key_length(parsed)
    _check_macs(parsed)
    if parsed.encryption.derivation.algorithm:
        if not password:
            raise BadPskc("the PSKC document is password-protected: give its password")
        _check_derivation(parsed, key_length)
        parsed.encryption.derive_key(password)
        return
    name = parsed.encryption.key_name
    if not psk:
        raise BadPskc(
            "the PSKC document is protected by a pre-shared key%s: give the key" % (" (%s)" % name[:64] if name else "")
        )
    if len(psk) != key_length:
        raise BadPskc(
            "the PSKC document needs a %d-bit key; the key given has %d bits" % (key_length * 8, len(psk) * 8)
        )
    parsed.encryption.key = bytes(psk)


def read(document, password=None, psk=None):
    """The tokens of a PSKC document (bytes); ``password`` or ``psk`` (AES key bytes) opens a protected one."""
    if not isinstance(document, bytes | bytearray) or len(document) > settings.MAX_PSKC_BYTES:
        raise BadPskc("the PSKC document must be at most %d bytes" % settings.MAX_PSKC_BYTES)
    try:
        safe_xml.fromstring(document, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise BadPskc("the PSKC document may not contain a DTD or entities") from None
    except Exception as error:  # expat's ParseError, with a position in the document
        raise BadPskc("the PSKC document is not well-formed XML (%s)" % type(error).__name__) from None
    try:
        parsed = pskc.PSKC(io.BytesIO(document))
        if parsed.encryption.is_encrypted:
            _open(parsed, password, psk)
        tokens = [_token(key) for key in parsed.keys]
    except BadPskc:
        raise
    except DecryptionError:
        raise BadPskc("the PSKC document does not open: wrong password or key, or damaged") from None
    except PSKCError as error:
        raise BadPskc("the PSKC document is not valid: %s" % _first_line(error)) from None
    except Exception as error:  # the XML parser and python-pskc raise many kinds on hostile input
        raise BadPskc("the PSKC document cannot be read (%s)" % type(error).__name__) from None
    if not tokens:
        raise BadPskc("the PSKC document holds no keys")
    serials = [token.serial for token in tokens]
    if len(set(serials)) != len(serials):
        raise BadPskc("the PSKC document names a serial number twice")
    return tokens


def _first_line(error):
    return (str(error).splitlines() or [type(error).__name__])[0][:200]
