"""Frames and lines under CPython: CRC against binascii, round trips, and every way a line can be wrong."""

import binascii

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fobcore import wire
from fobcore.wire import LineAssembler, ProtocolError, crc16, decode_frame, encode_frame

printable_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60)
bodies = st.lists(printable_text, min_size=1, max_size=6).map(" ".join)


@given(st.text(max_size=80))
def test_printable_keeps_printable_ascii_and_marks_the_rest(text):
    shown = wire.printable(text)
    assert len(shown) == len(text)
    assert all(out == (ch if " " <= ch <= "~" else "?") for ch, out in zip(text, shown, strict=True))


@given(st.binary(max_size=300))
def test_crc16_is_ccitt_false(data):
    assert crc16(data) == binascii.crc_hqx(data, 0xFFFF)


def test_crc16_check_value():
    assert crc16(b"123456789") == 0x29B1


def test_documented_example_frame():
    assert encode_frame(1, "INFO") == b"FOB1 0001 INFO *DB54\n"


@given(st.integers(0, 0xFFFF) | st.none(), bodies)
def test_round_trip(seq, body):
    line = encode_frame(seq, body)
    assert line.endswith(b"\n") and all(0x20 <= b <= 0x7E for b in line[:-1])
    assert decode_frame(line[:-1]) == (seq, body)


@given(st.integers(0, 0xFFFF), bodies, st.data())
def test_any_single_byte_change_is_caught(seq, body, data):
    line = bytearray(encode_frame(seq, body)[:-1])
    index = data.draw(st.integers(0, len(line) - 1))
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != line[index]))
    line[index] = replacement
    with pytest.raises(ProtocolError) as raised:
        decode_frame(bytes(line))
    assert raised.value.code in ("crc", "frame")


@pytest.mark.parametrize("body", ["A\x03B", "tab\there", "caf\u00e9"])
def test_never_sends_control_or_non_ascii_bytes(body):
    with pytest.raises(ProtocolError) as raised:
        encode_frame(1, body)
    assert raised.value.code == "frame"


def test_refuses_to_build_an_oversized_frame():
    with pytest.raises(ProtocolError) as raised:
        encode_frame(1, "X" * wire.MAX_LINE)
    assert raised.value.code == "too_long"


def _with_crc(text):
    data = text.encode()
    return data + b" *%04X" % crc16(data)


@pytest.mark.parametrize(
    "line, code",
    [
        (b"", "frame"),
        (b"INFO", "frame"),
        (b"FOB1 0001 INFO *DB5", "frame"),
        (b"FOB1 0001 INFO *db54", "crc"),
        (b"FOB1 0001 INFO  *DB54", "crc"),
        (_with_crc("FOB1 0001  INFO"), "frame"),
        (_with_crc("FOB1 00G1 INFO"), "frame"),
        (_with_crc("FOB1 1 INFO"), "frame"),
        (_with_crc("FOB2 0001 INFO"), "version"),
        (_with_crc("XYZ1 0001 INFO"), "version"),
        (b"FOB1 0001 IN\x00O *DB54", "frame"),
        (b"FOB1 0001 INFO *DB54\xff", "frame"),
        (b"X" * (wire.MAX_LINE + 1), "too_long"),
    ],
)
def test_malformed_lines(line, code):
    with pytest.raises(ProtocolError) as raised:
        decode_frame(line)
    assert raised.value.code == code


def test_version_error_keeps_the_checked_sequence_number():
    with pytest.raises(ProtocolError) as raised:
        decode_frame(_with_crc("FOB2 00A0 INFO"))
    assert raised.value.seq == 0xA0


@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=8), st.data())
def test_assembler_is_indifferent_to_chunking(lines, data):
    stream = b"".join(line + b"\n" for line in lines)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    assembler = LineAssembler(64)
    got = []
    for start, end in zip([0] + cuts, cuts + [len(stream)], strict=True):
        got += assembler.feed(stream[start:end])
    assert got == [line[:-1] if line.endswith(b"\r") else line for line in lines]


def test_assembler_flags_an_oversized_line_once_and_recovers():
    assembler = LineAssembler(8)
    assert assembler.feed(b"12345678\r\n") == [b"12345678"]
    assert assembler.feed(b"123456789") == []
    assert assembler.feed(b"0" * 10_000) == []
    assert assembler.feed(b"tail\nok\n") == [None, b"ok"]
    assert assembler.feed(b"123456789\n") == [None]
