"""fobcore against independent implementations: pyotp (property tests) and oathtool."""

import os
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fobcore import otp
from oracles import pyotp_hotp, pyotp_totp_at
from peers import require

KEY_LENGTHS = {"sha1": 20, "sha256": 32, "sha512": 64}


@settings(max_examples=300)
@given(
    algorithm=st.sampled_from(sorted(KEY_LENGTHS)),
    key=st.binary(min_size=1, max_size=100),
    unix_time=st.integers(min_value=0, max_value=2**37),
    period=st.integers(min_value=1, max_value=3600),
    digits=st.integers(min_value=6, max_value=10),
)
def test_totp_matches_pyotp(algorithm, key, unix_time, period, digits):
    expected = pyotp_totp_at(key, unix_time, period=period, digits=digits, algorithm=algorithm)
    assert otp.totp(key, unix_time, period=period, digits=digits, algorithm=algorithm) == expected


@settings(max_examples=200)
@given(key=st.binary(min_size=1, max_size=64), counter=st.integers(min_value=0, max_value=2**63))
def test_hotp_matches_pyotp(key, counter):
    assert otp.hotp(key, counter) == pyotp_hotp(key).at(counter)


@pytest.mark.parametrize("algorithm", sorted(KEY_LENGTHS))
@pytest.mark.parametrize("digits", [6, 8])
def test_totp_matches_oathtool(algorithm, digits):
    oathtool = require("oathtool", "oathtool")
    for unix_time in (0, 59, 1111111109, 1234567890, 2000000000, 1795607713):
        key = os.urandom(KEY_LENGTHS[algorithm])
        expected = subprocess.run(
            [
                oathtool,
                "--totp=" + algorithm.upper(),
                "--digits=%d" % digits,
                "--time-step-size=60s",
                "--now=@%d" % unix_time,
                key.hex(),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert otp.totp(key, unix_time, digits=digits, algorithm=algorithm) == expected
