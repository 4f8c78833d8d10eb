"""HOTP (RFC 4226) and TOTP (RFC 6238) codes.

Keys are raw bytes; codes are zero-padded decimal strings.  ``Otp`` binds
a key once (the HMAC key pads are hashed once); the module functions keep
the last ``Otp`` so that repeated calls with one key cost the same.
"""

from fobcore import hashes
from fobcore.hmac import Hmac
from fobcore.limits import MAX_DIGITS, MIN_DIGITS

DEFAULT_PERIOD = 60


class OtpError(ValueError):
    """A parameter of an OTP computation is out of range."""


def check_digits(digits):
    if not isinstance(digits, int) or not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise OtpError("digits must be %d to %d" % (MIN_DIGITS, MAX_DIGITS))


def check_period(period):
    if not isinstance(period, int) or period < 1:
        raise OtpError("period must be a positive whole number of seconds")


def time_step(unix_time, period=DEFAULT_PERIOD, t0=0):
    """The RFC 6238 counter T for ``unix_time``."""
    check_period(period)
    if unix_time < t0:
        raise OtpError("time is before T0")
    return int(unix_time - t0) // period


def seconds_left(unix_time, period=DEFAULT_PERIOD, t0=0):
    """Whole seconds until the code for ``unix_time`` changes (1..period)."""
    check_period(period)
    if unix_time < t0:
        raise OtpError("time is before T0")
    return period - int(unix_time - t0) % period


def _padded(value, digits):
    text = str(value)
    return "0" * (digits - len(text)) + text


class Otp:
    """An OTP key: ``hotp(counter)`` and ``totp(unix_time)`` with fixed parameters."""

    def __init__(self, key, algorithm="sha1", digits=6, period=DEFAULT_PERIOD, t0=0):
        check_digits(digits)
        check_period(period)
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.t0 = t0
        self._mac = Hmac(key, algorithm)
        self._modulus = 10**digits

    def hotp(self, counter):
        if not isinstance(counter, int) or counter < 0 or counter >= 1 << 64:
            raise OtpError("counter must be an integer from 0 to 2**64-1")
        mac = self._mac.digest(counter.to_bytes(8, "big"))
        i = mac[-1] & 0x0F
        value = ((mac[i] & 0x7F) << 24) | (mac[i + 1] << 16) | (mac[i + 2] << 8) | mac[i + 3]
        return _padded(value % self._modulus, self.digits)

    def totp(self, unix_time):
        return self.hotp(time_step(unix_time, self.period, self.t0))


_last = None
_last_key = None


def _otp(key, algorithm, digits, period, t0):
    global _last, _last_key
    last = _last
    if (
        last is None
        or last.algorithm != algorithm
        or last.digits != digits
        or last.period != period
        or last.t0 != t0
        or _last_key != key
    ):
        last = Otp(key, algorithm, digits, period, t0)
        _last = last
        _last_key = bytes(key)
    return last


def hotp(key, counter, digits=6, algorithm="sha1"):
    """The HOTP code of ``key`` (bytes) for ``counter``."""
    return _otp(key, algorithm, digits, DEFAULT_PERIOD, 0).hotp(counter)


def totp(key, unix_time, period=DEFAULT_PERIOD, digits=6, algorithm="sha1", t0=0):
    """The TOTP code of ``key`` (bytes) at ``unix_time`` (Unix seconds)."""
    return _otp(key, algorithm, digits, period, t0).totp(unix_time)


def supported_algorithms():
    """The HMAC algorithms this interpreter can compute."""
    return hashes.supported()
