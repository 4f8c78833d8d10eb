"""pyotp as an independent oracle, for every key length and period fobcore accepts.

pyotp 2.12 refuses keys under 112 bits and periods over 120 s (good
defaults for new secrets); for those the oracle uses pyotp's HOTP at the
RFC 6238 counter.
"""

import base64

import pyotp


class _AnyLengthTOTP(pyotp.TOTP):
    min_secret_length_bits = 0


class _AnyLengthHOTP(pyotp.HOTP):
    min_secret_length_bits = 0


def pyotp_hotp(key, digits=6, algorithm="sha1"):
    return _AnyLengthHOTP(base64.b32encode(key).decode(), digits=digits, digest=algorithm)


def pyotp_totp_at(key, unix_time, period=60, digits=6, algorithm="sha1"):
    """pyotp's TOTP code of ``key`` at ``unix_time``."""
    if period <= 120:
        secret = base64.b32encode(key).decode()
        return _AnyLengthTOTP(secret, digits=digits, digest=algorithm, interval=period).at(unix_time)
    return pyotp_hotp(key, digits, algorithm).at(unix_time // period)
