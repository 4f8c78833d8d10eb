"""The device side against the real Token on the fake board: commands, sealing, sequence rules, fuzzing."""

import base64
import os

import pytest
from fakeboard import FakeBoard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fobcore import wire
from fobcore.protocol import DeviceHandler
from fobcore.token import Token
from fobcore.wire import crc16, decode_frame, encode_frame, format_fields
from oracles import pyotp_totp_at

NOW = 1_800_000_000
SEED = bytes(range(100, 120))
PROVISION = (
    ("seed", base64.b32encode(SEED).decode().rstrip("=")),
    ("alg", "sha1"),
    ("digits", 6),
    ("period", 60),
    ("serial", "1000000016"),
    ("expiry", NOW + 86400),
)


class Session:
    """A handler with a numbering host in front of it."""

    def __init__(self, storage):
        self.board = FakeBoard(storage, NOW)
        self.token = Token(self.board)
        self.handler = DeviceHandler(self.token)
        self.seq = 0x0FFF
        self.replies = []

    def send(self, command, fields=(), seq=None):
        if seq is None:
            self.seq = (self.seq + 1) % 0x10000
            seq = self.seq
        reply = self.handler.handle(encode_frame(seq, format_fields(command, fields))[:-1])
        self.replies.append(reply)
        return parse(reply)

    def files(self):
        root = self.board.storage_dir()
        return {name: open(os.path.join(root, name), "rb").read() for name in sorted(os.listdir(root))}


def parse(reply):
    """(seq, word, rest) of a reply line, checking its framing."""
    assert reply.endswith(b"\n") and b"\x03" not in reply and len(reply) <= wire.MAX_LINE + 1
    seq, body = decode_frame(reply[:-1])
    word, _, rest = body.partition(" ")
    return seq, word, rest


def fields(rest):
    return dict(word.split("=", 1) for word in rest.split(" "))


@pytest.fixture
def session(tmp_path):
    return Session(tmp_path)


def provisioned(session, seal=False):
    session.send("INFO")
    assert session.send("PROVISION", PROVISION)[1] == "OK"
    if seal:
        assert session.send("SEAL")[1] == "OK"
    return session


def test_info_announces_the_device(session):
    seq, word, rest = session.send("INFO")
    assert seq == session.seq and word == "OK"
    assert fields(rest) == {
        "proto": "1",
        "fw": "0.1.0",
        "board": "fake",
        "serial": "-",
        "state": "BLANK",
        "sealed": "no",
        "alg": "sha1,sha256,sha512",
        "free": str(session.board.free_bytes()),
        "time": str(NOW),
        "ms": "-",
        "expiry": "-",
    }


def test_provision_check_seal_wipe(session):
    session.send("INFO")
    assert session.send("SET-TIME", (("time", NOW + 5),)) == (session.seq, "OK", "time=%d" % (NOW + 5))
    assert session.send("PROVISION", PROVISION) == (session.seq, "OK", "state=ACTIVE")
    assert fields(session.send("CHECK")[2]) == {"code": pyotp_totp_at(SEED, NOW + 5)}
    assert session.send("SEAL")[2] == "state=SEALED"
    assert not session.board.kbd_intr_enabled
    info = fields(session.send("INFO")[2])
    assert info["state"] == "SEALED" and info["serial"] == "1000000016" and info["expiry"] == str(NOW + 86400)
    assert session.send("CHECK")[1:] == ("ERR", "sealed no code: the token is SEALED")
    assert session.send("WIPE")[2] == "state=BLANK"
    assert session.board.kbd_intr_enabled and session.token.state == "BLANK"


@pytest.mark.parametrize("command, args", [("SET-TIME", (("time", NOW),)), ("PROVISION", PROVISION), ("CHECK", ())])
def test_sealed_device_refuses(session, command, args):
    provisioned(session, seal=True)
    before = session.files()
    seq, word, rest = session.send(command, args)
    assert (seq, word, rest.split(" ")[0]) == (session.seq, "ERR", "sealed")
    assert session.files() == before and session.token.state == "SEALED"


def test_no_reply_ever_carries_the_seed(session):
    provisioned(session)
    for command in ("INFO", "CHECK", "SEAL", "INFO", "CHECK", "WIPE"):
        session.send(command)
    secret_forms = [SEED.hex().encode(), SEED.hex().upper().encode(), base64.b32encode(SEED).rstrip(b"=")]
    for reply in session.replies:
        assert not any(form in reply for form in secret_forms)


def test_blank_device_has_no_code(session):
    session.send("INFO")
    assert session.send("CHECK")[2].startswith("blank ")
    assert session.send("SEAL")[2].startswith("blank ")


def test_commands_need_a_session_opened_by_info(session):
    seq, word, rest = session.send("WIPE")
    assert (word, rest.split(" ")[0]) == ("ERR", "sequence")
    assert session.send("INFO")[1] == "OK"
    assert session.send("WIPE")[1] == "OK"


def test_out_of_order_frames_are_refused_and_change_nothing(session):
    session.send("INFO")
    before = session.files()
    for seq in (session.seq + 2, session.seq - 1, 0):
        assert session.send("PROVISION", PROVISION, seq=seq)[1:2] == ("ERR",)
    assert session.files() == before and session.token.state == "BLANK"
    assert session.send("PROVISION", PROVISION)[1] == "OK"


def test_a_repeated_frame_is_answered_from_cache_without_acting_twice(session):
    provisioned(session)
    first = session.send("SEAL")
    again = session.send("SEAL", seq=session.seq)
    assert first == again == (session.seq, "OK", "state=SEALED")
    # A different frame reusing the number is not a retry.
    assert session.send("WIPE", seq=session.seq)[2].startswith("sequence ")
    assert session.token.state == "SEALED"


def test_only_the_very_same_bytes_are_a_repeat_not_a_frame_with_the_same_checksum(session):
    session.seq = 0xFFFF
    provisioned(session)  # INFO 0000, PROVISION 0001
    assert crc16(b"FOB1 0002 WIPE x=JTK") == crc16(b"FOB1 0002 CHECK")  # found by search: same number, same CRC
    check = session.handler.handle(b"FOB1 0002 CHECK *%04X" % crc16(b"FOB1 0002 CHECK"))
    assert parse(check)[:2] == (0x0002, "OK") and b"code=" in check
    forged = session.handler.handle(b"FOB1 0002 WIPE x=JTK *%04X" % crc16(b"FOB1 0002 WIPE x=JTK"))
    seq, word, rest = parse(forged)
    assert (seq, word) == (0x0002, "ERR") and rest.startswith("sequence ")
    assert session.token.state == "ACTIVE"


def test_sequence_numbers_wrap(session):
    session.seq = 0xFFFD
    assert session.send("INFO")[0] == 0xFFFE
    assert session.send("WIPE")[0] == 0xFFFF
    assert session.send("WIPE")[0] == 0x0000


@pytest.mark.parametrize(
    "command, args, code",
    [
        ("PROVISION", PROVISION[:-1], "bad_param"),
        ("PROVISION", PROVISION + (("extra", "1"),), "bad_param"),
        ("PROVISION", PROVISION + (("alg", "sha1"),), "bad_param"),
        ("PROVISION", (("seed", "not*base32"),) + PROVISION[1:], "bad_param"),
        ("PROVISION", (("seed", "AAAA"),) + PROVISION[1:], "bad_param"),
        ("PROVISION", PROVISION[:1] + (("alg", "md5"),) + PROVISION[2:], "unsupported"),
        ("PROVISION", PROVISION[:2] + (("digits", "-6"),) + PROVISION[3:], "bad_param"),
        ("PROVISION", PROVISION[:2] + (("digits", "11"),) + PROVISION[3:], "bad_param"),
        ("PROVISION", PROVISION[:3] + (("period", "0"),) + PROVISION[4:], "bad_param"),
        ("PROVISION", PROVISION[:4] + (("serial", "1234"),) + PROVISION[5:], "bad_param"),
        ("PROVISION", PROVISION[:4] + (("serial", "12345678x"),) + PROVISION[5:], "bad_param"),
        ("PROVISION", PROVISION[:5] + (("expiry", str(NOW - 1)),), "bad_param"),
        ("PROVISION", PROVISION[:5] + (("expiry", "9" * 40),), "bad_param"),
        ("SET-TIME", (("time", "yesterday"),), "bad_param"),
        ("SET-TIME", (("time", "1"),), "bad_param"),
        ("SET-TIME", (), "bad_param"),
        ("INFO", (("verbose", "1"),), "bad_param"),
        ("REVEAL", (), "unknown"),
        ("info", (), "unknown"),
    ],
)
def test_bad_commands_get_an_error_and_change_nothing(session, command, args, code):
    session.send("INFO")
    before = session.files(), session.board.time()
    seq, word, rest = session.send(command, args)
    assert (seq, word, rest.split(" ")[0]) == (session.seq, "ERR", code)
    assert (session.files(), session.board.time()) == before and session.token.state == "BLANK"


def test_undecodable_lines_are_answered_without_a_sequence_number(session):
    for line in (b"garbage", b"FOB1 0001 INFO *0000", None):
        seq, word, rest = parse(session.handler.handle(line))
        assert seq is None and word == "ERR"
    assert rest.split(" ")[0] == "too_long"


def test_a_request_without_a_number_is_refused(session):
    seq, word, rest = parse(session.handler.handle(encode_frame(None, "INFO")[:-1]))
    assert (seq, word, rest.split(" ")[0]) == (None, "ERR", "sequence")


def test_storage_failure_is_a_storage_error(session, monkeypatch):
    session.send("INFO")

    def broken(record):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(session.token.store, "save", broken)
    seq, word, rest = session.send("PROVISION", PROVISION)
    assert (word, rest.split(" ")[0]) == ("ERR", "storage") and session.token.state == "BLANK"


# -- fuzzing: whatever arrives, the reply is one well-formed frame and nothing changes -------------


def state(token):
    """The token's info without the free space of the test machine's disk, which others change."""
    info = token.info()
    del info["free"]
    return info


_commands = st.sampled_from(sorted(wire.REQUESTS) + ["REVEAL", "DUMP", "SET-TIME", "PROVISION"])
_words = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30)


def _framed(seq, text):
    data = b"FOB1 %04X %s" % (seq, text.encode())
    return data + b" *%04X" % crc16(data)


_hostile_lines = st.one_of(
    st.binary(max_size=300),
    st.none(),
    # Well framed, numbered out of order: must be refused whatever they say.
    st.builds(lambda c, w: ("skip", c, w), _commands, st.lists(_words, max_size=8)),
    # Well framed, in order, but unknown, or known with at least one shapeless field.
    st.builds(
        lambda c, w, junk: ("next", c, w + [junk]),
        _commands,
        st.lists(_words, max_size=6),
        _words.filter(lambda w: "=" not in w[1:-1]),
    ),
    # A valid frame with one byte damaged.
    st.builds(lambda i, b: ("damage", i, b), st.integers(0, 200), st.integers(0, 255)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_hostile_lines, min_size=1, max_size=10))
def test_fuzz_hostile_input_never_changes_a_provisioned_token(tmp_path_factory, lines):
    session = provisioned(Session(tmp_path_factory.mktemp("fuzz")))
    before = session.files(), session.board.kbd_intr_enabled, state(session.token)
    for item in lines:
        if isinstance(item, tuple) and item[0] == "skip":
            line = _framed((session.seq + 2) % 0x10000, " ".join([item[1]] + item[2]))
        elif isinstance(item, tuple) and item[0] == "next":
            line = _framed((session.seq + 1) % 0x10000, " ".join([item[1]] + item[2]))
        elif isinstance(item, tuple):
            good = bytearray(encode_frame(session.seq + 1, "WIPE")[:-1])
            index = item[1] % len(good)
            if good[index] == item[2]:
                continue
            good[index] = item[2]
            line = bytes(good)
        else:
            line = item
        seq, word, rest = parse(session.handler.handle(line))
        # INFO is answered in any order (it only reads); everything else is refused.
        assert word == "ERR" or (line.split(b" ")[2] == b"INFO" and word == "OK"), (line, rest)
        if seq is not None and (line.split(b" ")[2] == b"INFO" or seq == (session.seq + 1) % 0x10000):
            session.seq = seq  # an intact INFO (any number) or frame in order uses its number up, even when refused
    assert (session.files(), session.board.kbd_intr_enabled, state(session.token)) == before
