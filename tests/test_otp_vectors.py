"""fobcore's OTP core against the RFC test vectors, with hashlib and with the SHA-1 fallback."""

import pytest

from fobcore import hashes, otp
from vectors import RFC4226_HOTP, RFC4226_KEY, RFC6238_KEYS, RFC6238_TOTP


@pytest.fixture(params=["hashlib", "fallback"])
def backend(request, monkeypatch):
    """Run each test with CPython's hashlib and again as a port without it."""
    if request.param == "fallback":
        monkeypatch.setattr(hashes, "hashlib", None)
        monkeypatch.setattr(otp, "_last", None)
    return request.param


@pytest.mark.parametrize("counter", range(10))
def test_rfc4226_hotp(backend, counter):
    assert otp.hotp(RFC4226_KEY, counter) == RFC4226_HOTP[counter]


@pytest.mark.parametrize(("unix_time", "algorithm", "code"), RFC6238_TOTP)
def test_rfc6238_totp(unix_time, algorithm, code):
    key = RFC6238_KEYS[algorithm]
    assert otp.totp(key, unix_time, period=30, digits=8, algorithm=algorithm) == code


@pytest.mark.parametrize(("unix_time", "code"), [(t, c) for t, a, c in RFC6238_TOTP if a == "sha1"])
def test_rfc6238_sha1_through_fallback(backend, unix_time, code):
    assert otp.totp(RFC6238_KEYS["sha1"], unix_time, period=30, digits=8) == code


def test_without_hashlib_only_sha1_is_supported(monkeypatch):
    monkeypatch.setattr(hashes, "hashlib", None)
    assert otp.supported_algorithms() == ("sha1",)
    with pytest.raises(hashes.UnsupportedAlgorithm, match="'sha256' is not available.*supported: sha1"):
        otp.totp(RFC6238_KEYS["sha256"], 59, algorithm="sha256")


def test_cpython_supports_all_three():
    assert otp.supported_algorithms() == ("sha1", "sha256", "sha512")


def test_unknown_algorithm_is_named():
    with pytest.raises(hashes.UnsupportedAlgorithm, match="unknown algorithm 'md5'"):
        otp.hotp(RFC4226_KEY, 0, algorithm="md5")


@pytest.mark.parametrize("digits", [5, 11, 0, -1, "6", 6.0])
def test_digits_out_of_range(digits):
    with pytest.raises(otp.OtpError, match="digits must be 6 to 10"):
        otp.hotp(RFC4226_KEY, 0, digits=digits)


@pytest.mark.parametrize("digits", range(6, 11))
def test_codes_are_zero_padded_to_digits(digits):
    # Counter 5 of the RFC key gives 254676 at 6 digits: pad with leading zeros when shorter.
    codes = [otp.hotp(RFC4226_KEY, c, digits=digits) for c in range(200)]
    assert all(len(code) == digits and code.isdigit() for code in codes)
    assert any(code.startswith("0") for code in codes)


@pytest.mark.parametrize("counter", [-1, 1 << 64, 1.5])
def test_counter_out_of_range(counter):
    with pytest.raises(otp.OtpError):
        otp.hotp(RFC4226_KEY, counter)


@pytest.mark.parametrize("period", [0, -30, 1.5])
def test_bad_period(period):
    with pytest.raises(otp.OtpError, match="period"):
        otp.totp(RFC4226_KEY, 59, period=period)


def test_time_before_t0_is_refused():
    with pytest.raises(otp.OtpError, match="before T0"):
        otp.totp(RFC4226_KEY, 99, t0=100)


def test_t0_shifts_the_steps():
    assert otp.totp(RFC4226_KEY, 1000 + 59, period=30, t0=1000) == otp.hotp(RFC4226_KEY, 1)


def test_default_period_is_sixty_seconds():
    assert otp.totp(RFC4226_KEY, 119) == otp.hotp(RFC4226_KEY, 1)
    assert otp.totp(RFC4226_KEY, 120) == otp.hotp(RFC4226_KEY, 2)


@pytest.mark.parametrize(
    ("unix_time", "period", "t0", "left"),
    [(0, 60, 0, 60), (59, 60, 0, 1), (60, 60, 0, 60), (61, 60, 0, 59), (59.9, 30, 0, 1), (1010, 30, 1000, 20)],
)
def test_seconds_left(unix_time, period, t0, left):
    assert otp.seconds_left(unix_time, period, t0) == left


def test_key_cache_does_not_mix_keys_or_parameters():
    # The module functions cache the last key; changing any input must not reuse it.
    a = otp.totp(RFC6238_KEYS["sha1"], 59, period=30, digits=8)
    b = otp.totp(RFC6238_KEYS["sha256"], 59, period=30, digits=8, algorithm="sha256")
    assert (a, b) == ("94287082", "46119246")
    assert otp.totp(RFC6238_KEYS["sha1"], 59, period=30, digits=6) == "287082"
    assert otp.totp(RFC6238_KEYS["sha1"], 59, period=60, digits=8) == otp.hotp(RFC6238_KEYS["sha1"], 0, digits=8)


def test_long_keys_are_hashed_first():
    import hmac as std_hmac

    from fobcore.hmac import Hmac

    for length in (63, 64, 65, 127, 128, 129, 200):
        key = bytes(range(length % 256)) * (length // 256 + 1)
        key = key[:length]
        for name in ("sha1", "sha256", "sha512"):
            assert Hmac(key, name).digest(b"msg") == std_hmac.new(key, b"msg", name).digest()
