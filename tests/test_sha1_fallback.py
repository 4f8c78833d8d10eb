"""The pure-Python SHA-1 gives hashlib's digests for every length and split."""

import hashlib
import os

from hypothesis import given
from hypothesis import strategies as st

from fobcore.sha1 import sha1


def test_every_length_0_to_300():
    for length in range(301):
        message = os.urandom(length)
        assert sha1(message).digest() == hashlib.sha1(message).digest(), length


def test_fips_examples():
    assert sha1(b"abc").hexdigest() == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert sha1(b"").hexdigest() == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert sha1(b"a" * 1_000_000).hexdigest() == "34aa973cd4c4daa4f61eeb2bdbad27316534016f"


@given(st.lists(st.binary(max_size=200), max_size=6))
def test_incremental_updates_and_copies(parts):
    ours = sha1()
    reference = hashlib.sha1()
    for part in parts:
        snapshot = ours.copy()
        ours.update(part)
        reference.update(part)
        assert snapshot.digest() != ours.digest() or not part
    assert ours.digest() == reference.digest()
    assert ours.copy().digest() == ours.digest()
