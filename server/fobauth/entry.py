"""What users type: serial numbers and one-time passwords, normalised before any check.

Japanese keyboards often produce full-width digits (０１２…); NFKC folds
them to ASCII.  After folding only ASCII digits are accepted, so look-alike
characters from other scripts (Arabic-Indic, Devanagari digits) are refused.
"""

import unicodedata

from fobauth.errors import BadCode, BadSerial
from fobauth.settings import MAX_TYPED_CHARS
from fobcore.limits import MAX_SERIAL, MIN_SERIAL

_ASCII_DIGITS = frozenset("0123456789")


def _fold(text):
    if not isinstance(text, str) or len(text) > MAX_TYPED_CHARS:
        return None
    folded = unicodedata.normalize("NFKC", text).strip()
    return folded if folded and set(folded) <= _ASCII_DIGITS else None


def serial(text):
    """The serial number as MIN_SERIAL to MAX_SERIAL (the fob's, fobcore.limits) ASCII digits, or BadSerial."""
    folded = _fold(text)
    if folded is None or not MIN_SERIAL <= len(folded) <= MAX_SERIAL:
        raise BadSerial("the serial number must be %d to %d digits" % (MIN_SERIAL, MAX_SERIAL))
    return folded


def code(text, digits):
    """The one-time password as ``digits`` ASCII digits, or BadCode."""
    folded = _fold(text)
    if folded is None or len(folded) != digits:
        raise BadCode("the one-time password must be %d digits" % digits)
    return folded
