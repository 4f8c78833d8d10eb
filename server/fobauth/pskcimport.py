"""Token seeds from PSKC (RFC 6030) documents, plain or password-protected, via python-pskc.

Only TOTP keys with decimal responses are accepted; every key must carry a
serial number of 8 to 12 digits and a secret.  A document is taken whole or
not at all, and error messages name the key's serial, never its secret.

Documents with a DTD are refused before python-pskc sees them: python-pskc
parses with lxml when it is installed, which expands internal entities,
and with defusedxml only when it is not, so the refusal is made here,
whatever parser python-pskc picks.  PSKC documents have no use for a DTD.
"""

import datetime
import io

import defusedxml
import pskc
from defusedxml import ElementTree as safe_xml
from pskc.exceptions import DecryptionError, PSKCError

from fobauth import entry, settings
from fobauth.errors import BadPskc, BadSerial
from fobcore import otp

TOTP_URN = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
MAX_DOCUMENT_BYTES = settings.MAX_PSKC_BYTES
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


def read(document, password=None):
    """The tokens of a PSKC document (bytes); ``password`` opens a password-protected one."""
    if not isinstance(document, bytes | bytearray) or len(document) > MAX_DOCUMENT_BYTES:
        raise BadPskc("the PSKC document must be at most %d bytes" % MAX_DOCUMENT_BYTES)
    try:
        safe_xml.fromstring(document, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise BadPskc("the PSKC document may not contain a DTD or entities") from None
    except Exception as error:  # expat's ParseError, with a position in the document
        raise BadPskc("the PSKC document is not well-formed XML (%s)" % type(error).__name__) from None
    try:
        parsed = pskc.PSKC(io.BytesIO(document))
        if parsed.encryption.is_encrypted:
            if not password:
                raise BadPskc("the PSKC document is password-protected: give its password")
            parsed.encryption.derive_key(password)
        tokens = [_token(key) for key in parsed.keys]
    except BadPskc:
        raise
    except DecryptionError:
        raise BadPskc("the PSKC document does not open: wrong password or damaged") from None
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
