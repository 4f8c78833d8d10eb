"""The seed key (environment or 0600 file), and the token buckets behind the HTTP rate limits."""

import base64
import os
import stat

import pytest

from fobauth.ratelimit import Rate, RateLimiter
from fobauth.seedbox import KEY_ENV, SeedBox, SeedKeyError, create_key_file, load_key


def test_key_file_is_created_private_and_never_overwritten(tmp_path):
    path = tmp_path / "seed.key"
    create_key_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = load_key(path, environ={})
    assert len(key) == 32
    with pytest.raises(FileExistsError):
        create_key_file(path)
    assert load_key(path, environ={}) == key


def test_environment_key_wins_over_the_file(tmp_path):
    path = tmp_path / "seed.key"
    create_key_file(path)
    from_env = bytes(range(32))
    assert load_key(path, environ={KEY_ENV: base64.b64encode(from_env).decode()}) == from_env


@pytest.mark.parametrize("text", ["", "not base64!", base64.b64encode(bytes(16)).decode(), "QUJD\x00"])
def test_malformed_keys_are_refused_without_echoing_them(tmp_path, text):
    path = tmp_path / "seed.key"
    path.write_text(text)
    with pytest.raises(SeedKeyError) as caught:
        load_key(path, environ={})
    assert text.strip() == "" or text not in str(caught.value)


def test_missing_key_is_a_clear_error(tmp_path):
    with pytest.raises(SeedKeyError, match="cannot read"):
        load_key(tmp_path / "absent.key", environ={})
    with pytest.raises(SeedKeyError, match=KEY_ENV):
        load_key(None, environ={})


def test_a_sealed_seed_opens_only_for_its_own_serial():
    box = SeedBox(bytes(range(32)))
    sealed = box.seal(b"seed bytes 123456789", "12345678")
    assert box.open(sealed, "12345678") == b"seed bytes 123456789"
    assert box.seal(b"seed bytes 123456789", "12345678") != sealed  # a fresh nonce each time
    with pytest.raises(SeedKeyError):
        box.open(sealed, "87654321")
    with pytest.raises(SeedKeyError):
        box.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), "12345678")


class ManualClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_bucket_allows_a_burst_then_refills_evenly():
    clock = ManualClock()
    limiter = RateLimiter(Rate(3, 60), clock=clock)
    assert [limiter.acquire("alice") for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire("alice") == pytest.approx(20)
    assert limiter.acquire("bob") == 0  # keys are independent
    clock.now = 19.9
    assert limiter.acquire("alice") > 0
    clock.now = 40
    assert limiter.acquire("alice") == 0


def test_junk_keys_cannot_reset_a_known_bucket():
    clock = ManualClock()
    limiter = RateLimiter(Rate(2, 60), clock=clock, max_keys=100)
    assert [limiter.acquire("alice") for _ in range(3)] == [0, 0, pytest.approx(30)]
    for i in range(1000):  # ten times what the limiter holds, all within alice's refill time
        limiter.acquire("junk%d" % i)
        clock.now += 0.001
    assert len(limiter._buckets) <= 100
    assert limiter.acquire("alice") > 0  # still counted
    assert limiter.acquire("newcomer") > 0  # full of refilling buckets: new keys wait (fail closed)


def test_refilled_buckets_are_forgotten_and_make_room():
    clock = ManualClock()
    limiter = RateLimiter(Rate(2, 60), clock=clock, max_keys=100)
    for i in range(100):
        limiter.acquire("user%d" % i)
    assert limiter.acquire("late") > 0
    clock.now += 30  # each bucket had one request of two: full again
    assert limiter.acquire("late") == 0
    assert len(limiter._buckets) == 1


@pytest.mark.parametrize("text", ["10", "10/60", "5/0.5"])
def test_rates_parse(text):
    rate = Rate.parse(text)
    assert rate.count >= 5


@pytest.mark.parametrize("text", ["", "x/60", "0/60", "10/0", "10/-1", "-3/5"])
def test_bad_rates_are_refused(text):
    with pytest.raises(ValueError):
        Rate.parse(text)
