"""fobcore.base32 against the standard library, and its refusals."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fobcore import base32


@given(st.binary(max_size=80))
def test_encode_matches_stdlib(data):
    assert base32.encode(data) == base64.b32encode(data).decode()
    assert base32.encode(data, padding=False) == base64.b32encode(data).decode().rstrip("=")


@given(st.binary(max_size=80))
def test_decode_roundtrip_in_every_form(data):
    text = base64.b32encode(data).decode()
    assert base32.decode(text) == data
    assert base32.decode(text.rstrip("=")) == data
    assert base32.decode(text.lower()) == data
    spaced = " ".join(text[i : i + 4] for i in range(0, len(text), 4))
    assert base32.decode(spaced) == data
    assert base32.decode(spaced.replace(" ", "-")) == data
    assert base32.decode(text.encode()) == data


def test_rfc4648_examples():
    for plain, encoded in [
        (b"", ""),
        (b"f", "MY======"),
        (b"fo", "MZXQ===="),
        (b"foo", "MZXW6==="),
        (b"foob", "MZXW6YQ="),
        (b"fooba", "MZXW6YTB"),
        (b"foobar", "MZXW6YTBOI======"),
    ]:
        assert base32.encode(plain) == encoded
        assert base32.decode(encoded) == plain


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("3132333435363738393031323334353637383930", "invalid character at position 2"),
        ("GEZDGNBVGY3TQOJ1", "invalid character at position 16"),
        ("GEZD GNB!", "invalid character"),
        ("MZXW6==YTB", "padding before the end"),
        ("MZXW6YTBO", "9 characters cannot encode whole bytes"),
        ("A", "1 characters"),
        ("ÄBCD", "invalid character at position 1"),
        ("ﬆAB", "invalid character at position 1"),
        ("MZ\x00W", "invalid character"),
    ],
)
def test_refuses_non_base32_clearly(text, reason):
    with pytest.raises(base32.Base32Error, match=reason):
        base32.decode(text)


def test_error_never_quotes_the_secret():
    secret = "JBSWY3DPEHPK3PXP" + "0" + "SECRETTAIL"
    with pytest.raises(base32.Base32Error) as caught:
        base32.decode(secret)
    assert "JBSW" not in str(caught.value) and "SECRET" not in str(caught.value)
    assert "0" not in str(caught.value).split("position")[0]


def test_non_ascii_bytes_are_refused():
    with pytest.raises(base32.Base32Error, match="not ASCII"):
        base32.decode(b"\xff\xfe")
