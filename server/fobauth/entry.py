"""What users type: serial numbers and one-time passwords, normalised before any check.

Japanese keyboards often produce full-width digits (０１２…); NFKC folds
them to ASCII.  After folding only ASCII digits are accepted, so look-alike
characters from other scripts (Arabic-Indic, Devanagari digits) are refused.
"""

import unicodedata

from fobauth.errors import BadCode, BadSerial

SERIAL_MIN = 8
SERIAL_MAX = 12
_ASCII_DIGITS = frozenset("0123456789")
_MAX_INPUT = 64  # longer input is refused before normalising it


def _fold(text):
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        return None
    folded = unicodedata.normalize("NFKC", text).strip()
    return folded if folded and set(folded) <= _ASCII_DIGITS else None


def serial(text):
    """The serial number as 8 to 12 ASCII digits, or BadSerial."""
    folded = _fold(text)
    if folded is None or not SERIAL_MIN <= len(folded) <= SERIAL_MAX:
        raise BadSerial("the serial number must be %d to %d digits" % (SERIAL_MIN, SERIAL_MAX))
    return folded


def code(text, digits):
    """The one-time password as ``digits`` ASCII digits, or BadCode."""
    folded = _fold(text)
    if folded is None or len(folded) != digits:
        raise BadCode("the one-time password must be %d digits" % digits)
    return folded
