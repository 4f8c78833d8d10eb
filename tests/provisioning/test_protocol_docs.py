"""Every frame quoted in docs/protocol.md has the checksum the code computes, and the session replays on a Token."""

import re
from pathlib import Path

from fakeboard import FakeBoard

from fobcore import hashes
from fobcore.protocol import DeviceHandler
from fobcore.token import Token
from fobcore.wire import crc16

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
FRAME = re.compile(r"^([<>]) (FOB1 \S{4} .* \*[0-9A-F]{4})$")


def quoted_frames():
    return [FRAME.match(line).groups() for line in DOC.read_text().splitlines() if FRAME.match(line)]


def test_documented_checksums_are_right():
    frames = quoted_frames()
    assert len(frames) >= 15
    wrong = [line for _, line in frames if "*0000" not in line and crc16(line[:-6].encode()) != int(line[-4:], 16)]
    assert wrong == []


def test_documented_session_is_what_a_token_answers(tmp_path, monkeypatch):
    """The first sixteen quoted lines are one real exchange with a device offering sha1 and sha256."""
    monkeypatch.setattr(hashes, "supported", lambda: ("sha1", "sha256"))

    class DeskBoard(FakeBoard):
        name = "rp2-pico-ssd1306"

        def free_bytes(self):
            return 851968

    handler = DeviceHandler(Token(DeskBoard(tmp_path)))
    frames = quoted_frames()
    for (_, request), (_, reply) in zip(frames[0:16:2], frames[1:16:2], strict=True):
        assert handler.handle(request.encode()).decode() == reply + "\n"
