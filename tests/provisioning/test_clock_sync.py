"""CHALLENGE and SYNC on the device: authenticated, one-time, bounded, rate-limited clock corrections of sealed fobs.

The MAC is computed here with Python's own hmac module, not fobcore's, so
the fob's side is checked against an independent implementation.
"""

import hashlib
import hmac
import os

import pytest
from fakeboard import FakeBoard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fobcore.protocol import DeviceHandler
from fobcore.token import Token
from fobcore.wire import decode_frame, encode_frame, format_fields
from fobhost.replies import parse_reply
from oracles import pyotp_totp_at

NOW = 1_800_000_000
SEED = bytes(range(100, 120))
SERIAL = "1000000016"
PERIOD = 60


def oracle_mac(seed, serial, challenge, new_time, force, aging=None, digest=hashlib.sha1):
    key = hmac.new(seed, b"fobkit clock-sync v1", digest).digest()
    mode, trim = "force" if force else "bounded", "-" if aging is None else str(aging)
    message = "fobkit clock-sync v1\n%s\n%s\n%d\n%s\n%s" % (serial, challenge.hex(), new_time, mode, trim)
    return hmac.new(key, message.encode(), digest).digest()


class Fob:
    """A sealed token on the fake board behind its handler, and a numbering host in front."""

    def __init__(self, storage, seal=True):
        self.board = FakeBoard(storage, NOW)
        self.token = Token(self.board)
        self.token.provision(SEED, "sha1", 6, PERIOD, SERIAL, NOW + 10 * 365 * 86400)
        if seal:
            self.token.seal()
        self.handler = DeviceHandler(self.token)
        self.seq = 0x2000
        self.send("INFO")

    def send(self, command, fields=()):
        """("OK", the reply's typed values) or (error code, message), read as the host reads replies."""
        self.seq += 1
        seq, body = decode_frame(self.handler.handle(encode_frame(self.seq, format_fields(command, fields))[:-1])[:-1])
        assert seq == self.seq
        code, outcome = parse_reply(command.split(" ")[0], body)
        return ("OK" if code is None else code), outcome

    def challenge(self):
        word, values = self.send("CHALLENGE")
        assert word == "OK", values
        return values["challenge"]

    def sync(self, new_time, force=False, seed=SEED, challenge=None, aging=None, signed_aging="same"):
        challenge = self.challenge() if challenge is None else challenge
        signed = aging if signed_aging == "same" else signed_aging
        mac = oracle_mac(seed, SERIAL, challenge, new_time, force, signed).hex()
        values = (("time", new_time), ("force", "yes" if force else "no"), ("aging", "-" if aging is None else aging))
        return self.send("SYNC", (*values, ("mac", mac)))

    def files(self):
        root = self.board.storage_dir()
        return {name: open(os.path.join(root, name), "rb").read() for name in sorted(os.listdir(root))}


@pytest.fixture
def fob(tmp_path):
    return Fob(tmp_path)


def test_a_proven_correction_sets_a_sealed_fobs_clock_and_keeps_its_seed(fob):
    fob.board.unix_time = NOW + 300  # five minutes fast
    assert fob.sync(NOW + 1) == ("OK", {"old": NOW + 300, "time": NOW + 1, "forced": 0, "aging": None})
    assert fob.board.time() == NOW + 1 and fob.token.state == "SEALED"
    assert fob.token.record.seed == SEED and fob.token.serial == SERIAL
    assert fob.token.code_now()[0] == pyotp_totp_at(SEED, NOW + 1)


def test_the_challenge_is_fresh_random_and_names_the_fob(fob):
    word, first = fob.send("CHALLENGE")
    _, second = fob.send("CHALLENGE")
    assert word == "OK" and first["serial"] == SERIAL and len(first["challenge"]) == 16
    assert first["challenge"] != second["challenge"]
    assert first["time"] == NOW and first["known"] >= NOW


def test_a_wrong_mac_is_denied_changes_nothing_and_tells_nothing(fob):
    before = fob.files(), fob.board.time()
    assert fob.sync(NOW + 30, seed=b"another seed of twenty!"[:20]) == ("denied", "correction refused")
    assert (fob.files(), fob.board.time()) == before


def test_a_challenge_is_used_once(fob):
    challenge = fob.challenge()
    assert fob.sync(NOW + 5, challenge=challenge)[0] == "OK"
    assert fob.sync(NOW + 6, challenge=challenge) == (
        "challenge",
        "no open challenge: ask for one (CHALLENGE); each is used once",
    )
    challenge = fob.challenge()
    assert fob.sync(NOW + 7, seed=b"x" * 20, challenge=challenge)[0] == "denied"
    assert fob.sync(NOW + 7, challenge=challenge)[0] == "challenge"  # a failed try used it up too


def test_a_reset_forgets_the_challenge(fob, tmp_path):
    challenge = fob.challenge()
    rebooted = DeviceHandler(Token(fob.board))
    fob.handler = rebooted
    fob.send("INFO")
    assert fob.sync(NOW + 5, challenge=challenge)[0] == "challenge"


def test_refusals_are_rate_limited_on_the_fob(fob):
    assert fob.sync(NOW, seed=b"y" * 20)[0] == "denied"
    assert fob.send("CHALLENGE") == ("busy", "a correction was refused: try again in 1 s")
    fob.board.advance(1)
    assert fob.sync(NOW + 1, seed=b"y" * 20)[0] == "denied"
    assert fob.send("CHALLENGE") == ("busy", "a correction was refused: try again in 2 s")
    fob.board.advance(2)
    assert fob.sync(fob.board.time())[0] == "OK"  # the right proof ends the backoff
    assert fob.send("CHALLENGE")[0] == "OK"


def test_a_correction_beyond_the_bound_needs_force_which_the_fob_counts(fob):
    fob.board.unix_time = NOW - 601  # more than 10 steps of 60 s slow
    before = fob.files()
    word, message = fob.sync(NOW)
    assert word == "bounds" and "+601 s is beyond 600 s (10 steps)" in message and fob.files() == before
    assert fob.sync(NOW, force=True) == ("OK", {"old": NOW - 601, "time": NOW, "forced": 1, "aging": None})
    assert fob.token.record.forced == 1 and fob.board.time() == NOW


def test_the_clock_never_goes_back_past_the_last_code_shown_unless_forced(fob):
    fob.board.advance(120)
    fob.token.code_now()  # the display showed the code for NOW + 120
    word, message = fob.sync(NOW + 119)
    assert word == "bounds" and "back before %d" % (NOW + 120) in message
    assert fob.sync(NOW + 120)[0] == "OK"
    assert fob.sync(NOW + 60, force=True)[0] == "OK" and fob.token.record.forced == 1


def test_a_fob_whose_rtc_was_lost_is_repaired_within_what_its_record_knew(fob, tmp_path):
    fob.board.advance(300)
    fob.token.code_now()  # stored: the record knows NOW + 300
    fob.board.unix_time = None  # the coin cell ran flat; RAM was lost too
    fob.token = Token(fob.board)
    fob.handler = DeviceHandler(fob.token)
    fob.send("INFO")
    assert fob.token.state == "CLOCK"
    word, message = fob.sync(NOW + 299)
    assert word == "bounds" and "back before %d" % (NOW + 300) in message
    assert fob.sync(NOW + 86400 * 30) == ("OK", {"old": None, "time": NOW + 86400 * 30, "forced": 0, "aging": None})
    assert fob.token.state == "SEALED" and fob.token.code_now()[0] == pyotp_totp_at(SEED, NOW + 86400 * 30)


def test_only_a_sealed_fob_takes_corrections(tmp_path):
    active = Fob(tmp_path / "active", seal=False)
    assert active.send("CHALLENGE") == ("not_sealed", "the token is not sealed: set its clock with SET-TIME")
    assert active.send("WIPE")[0] == "OK"
    assert active.send("CHALLENGE")[0] == "blank"


class TrimmableRtc(FakeBoard):
    """A board whose clock has a DS3231-style aging trim."""

    trim = 0

    def aging(self):
        return self.trim

    def set_aging(self, value):
        self.trim = value


def test_a_proven_correction_can_set_the_aging_trim(tmp_path):
    fob = Fob(tmp_path)
    fob.board.__class__ = TrimmableRtc
    assert fob.send("CHALLENGE")[1]["aging"] == 0
    reply = fob.sync(NOW + 2, aging=-37)
    assert reply == ("OK", {"old": NOW, "time": NOW + 2, "forced": 0, "aging": -37})
    assert fob.board.trim == -37


def test_the_mac_covers_the_aging_trim(tmp_path):
    fob = Fob(tmp_path)
    fob.board.__class__ = TrimmableRtc
    before = fob.files(), fob.board.time()
    assert fob.sync(NOW + 2, aging=100, signed_aging=None)[0] == "denied"
    fob.board.advance(1)  # past the back-off
    assert fob.sync(NOW + 3, aging=100, signed_aging=5)[0] == "denied"
    assert fob.board.trim == 0 and fob.files() == before[0]


@pytest.mark.parametrize("aging", [128, -129])
def test_an_aging_trim_out_of_range_is_refused(tmp_path, aging):
    fob = Fob(tmp_path)
    fob.board.__class__ = TrimmableRtc
    assert fob.sync(NOW + 2, aging=aging) == ("bad_param", "aging must be -128 to 127")
    assert fob.board.trim == 0


def test_a_fob_without_aging_trim_refuses_one_and_keeps_its_clock(fob):
    before = fob.files(), fob.board.time()
    assert fob.sync(NOW + 2, aging=3) == ("unsupported", "this fob's clock has no aging trim")
    assert (fob.files(), fob.board.time()) == before


class FailingRtc(FakeBoard):
    def set_time(self, unix_seconds):
        raise OSError(5)  # EIO: the DS3231 did not acknowledge on I2C


def test_an_rtc_that_fails_on_i2c_is_an_rtc_error_not_a_storage_error(tmp_path):
    blank = DeviceHandler(Token(FailingRtc(tmp_path / "blank", NOW)))
    reply = decode_frame(blank.handle(encode_frame(1, "INFO")[:-1])[:-1])
    assert reply[1].startswith("OK ")
    reply = decode_frame(blank.handle(encode_frame(2, "SET-TIME time=%d" % NOW)[:-1])[:-1])
    assert reply[1] == "ERR rtc could not set the clock (errno 5)"
    fob = Fob(tmp_path / "sealed")
    fob.board.__class__ = FailingRtc
    before = fob.files()
    assert fob.sync(NOW + 5) == ("rtc", "could not set the clock (errno 5)") and fob.files() == before


# -- fuzzing: no SYNC without the proof, whatever arrives ---------------------------------------------------

_field_words = st.one_of(
    st.builds(lambda t: "time=%d" % t, st.integers(0, 10**12)),
    st.sampled_from(["force=yes", "force=no", "force=maybe", "time=-", "mac=-", "time=18e8"]),
    st.builds(lambda b: "mac=" + b.hex(), st.binary(max_size=40)),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=24),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), st.lists(_field_words, max_size=5)), min_size=1, max_size=6))
def test_fuzz_hostile_corrections_never_move_the_clock(tmp_path_factory, attempts):
    fob = Fob(tmp_path_factory.mktemp("fuzz"))
    before = fob.files(), fob.token.known_time()
    for ask_first, words in attempts:
        if ask_first:
            fob.send("CHALLENGE")
        word, reply = fob.send("SYNC " + " ".join(words) if words else "SYNC")
        assert word != "OK", reply
        assert SEED.hex() not in str(reply) and pyotp_totp_at(SEED, NOW) not in str(reply)
        fob.board.advance(64)  # past any backoff
    assert (fob.files(), fob.token.known_time()) == before
    assert fob.board.time() == NOW + 64 * len(attempts)  # only the time that passed moved it
