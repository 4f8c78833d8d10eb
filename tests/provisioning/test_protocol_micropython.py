"""The protocol inside the real MicroPython VM: the same bytes in as under CPython give the same bytes out."""

import binascii
import hashlib
import hmac
import json
import random

from fakeboard import FakeBoard

from fobcore import base32, hashes
from fobcore.protocol import DeviceHandler
from fobcore.token import Token
from fobcore.wire import LineAssembler, crc16, encode_frame, format_fields
from mpvm import FOBCORE, SCRIPT_BOARD, run

NOW = 1_800_000_000
FREE = 12345

VM_SCRIPT = """
import binascii, json, os
from fobcore import hashes
from fobcore.protocol import DeviceHandler
from fobcore.wire import LineAssembler, crc16
from fobcore.token import Token
from scriptboard import ScriptBoard

class FixedBoard(ScriptBoard):
    name = "fake"
    def free_bytes(self):
        return %d
    def random_bytes(self, count):
        return b"Z" * count

with open("/cases/cases.json") as f:
    cases = json.load(f)
out = {"crc": [crc16(binascii.unhexlify(h)) for h in cases["crc"]]}
assembler = LineAssembler(cases["max_len"])
lines = []
for chunk in cases["chunks"]:
    for line in assembler.feed(binascii.unhexlify(chunk)):
        lines.append(None if line is None else binascii.hexlify(line).decode())
out["lines"] = lines
handler = DeviceHandler(Token(FixedBoard(%d)))
out["replies"] = [handler.handle(None if l is None else binascii.unhexlify(l)).decode() for l in cases["session"]]
print(json.dumps(out))
""" % (FREE, NOW)


class FixedBoard(FakeBoard):
    def free_bytes(self):
        return FREE

    def random_bytes(self, count):
        return b"Z" * count  # the same "random" challenge on both sides, so the replies compare


def _session():
    """Requests of a whole provisioning, and hostile ones between them."""
    seed = "MZXW6YTBOI" * 4

    def frame(seq, command, fields=()):
        return encode_frame(seq, format_fields(command, fields))[:-1]

    provision = (("seed", seed), ("alg", "sha256"), ("digits", 8), ("period", 30))
    provision += (("serial", "1000000016"), ("expiry", NOW + 86400))
    key = hmac.new(base32.decode(seed), b"fobkit clock-sync v1", hashlib.sha256).digest()
    signed = b"fobkit clock-sync v1\n1000000016\n%s\n%d\nbounded\n-" % (b"Z".hex().encode() * 16, NOW + 5)
    sync = (
        ("time", NOW + 5),
        ("force", "no"),
        ("aging", "-"),
        ("mac", hmac.new(key, signed, hashlib.sha256).hexdigest()),
    )
    lines = [
        frame(1, "WIPE"),  # no session yet
        frame(7, "INFO"),
        frame(9, "SET-TIME", (("time", NOW + 1),)),  # out of order
        frame(8, "SET-TIME", (("time", NOW + 1),)),
        frame(9, "PROVISION", provision[:-1]),  # missing a field
        frame(10, "PROVISION", provision),
        frame(10, "PROVISION", provision),  # a retry: answered from cache
        frame(11, "CHECK"),
        frame(12, "REVEAL"),
        b"FOB1 000D CHECK *0000",
        b"\x03\x03 garbage",
        None,  # an oversized line
        frame(13, "SEAL"),
        frame(14, "CHECK"),
        frame(15, "PROVISION", provision),
        frame(16, "INFO"),
        frame(17, "CHALLENGE"),
        frame(18, "SYNC", sync),  # a proven correction
        frame(19, "SYNC", sync),  # replayed with a new number: the challenge is used up
        frame(20, "CHALLENGE"),
        frame(21, "SYNC", (("time", NOW + 5), ("force", "no"), ("aging", "-"), ("mac", "00" * 32))),  # a wrong MAC
        frame(22, "CHALLENGE"),  # rate-limited
        frame(23, "WIPE"),
        frame(24, "INFO"),
    ]
    return lines


def test_protocol_runs_identically_in_micropython(tmp_path, vm_cases, monkeypatch, micropython_port):
    rng = random.Random(4)
    crc_inputs = [rng.randbytes(rng.randrange(0, 120)) for _ in range(60)]
    stream = b"".join(rng.choice([b"abc\r\n", b"x" * 40 + b"\n", b"\n", b"FOB1 0001 INFO *DB54\n"]) for _ in range(30))
    cuts = sorted(rng.sample(range(len(stream)), 20))
    chunks = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)], strict=True)]
    session = _session()
    cases = {
        "crc": [data.hex() for data in crc_inputs],
        "max_len": 32,
        "chunks": [chunk.hex() for chunk in chunks],
        "session": [None if line is None else line.hex() for line in session],
    }
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    output = run(VM_SCRIPT, copies=(FOBCORE, SCRIPT_BOARD, (tmp_path, "/cases")), port=micropython_port)
    got = json.loads(output.splitlines()[-1])

    assert got["crc"] == [binascii.crc_hqx(data, 0xFFFF) for data in crc_inputs] == [crc16(d) for d in crc_inputs]
    assembler = LineAssembler(32)
    expected_lines = [line for chunk in chunks for line in assembler.feed(chunk)]
    assert got["lines"] == [None if line is None else line.hex() for line in expected_lines]
    monkeypatch.setattr(hashes, "supported", lambda: ("sha1", "sha256"))  # what the VM's hashlib offers
    handler = DeviceHandler(Token(FixedBoard(tmp_path / "flash", NOW)))
    expected = [handler.handle(line).decode() for line in session]
    assert got["replies"] == expected
    words = [reply.split(" ")[2] for reply in expected]
    assert words.count("OK") == 12 and "ERR sealed" in expected[13]
    assert " OK old=%d time=%d forced=0 aging=- " % (NOW + 1, NOW + 5) in expected[17]
    assert "ERR challenge" in expected[18] and "ERR denied" in expected[20] and "ERR busy" in expected[21]
    vm_cases.append(
        ("provisioning protocol: CRC, line assembly, a whole device session", len(crc_inputs) + len(session))
    )
