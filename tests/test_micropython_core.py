"""The OTP core inside the real MicroPython VM (WebAssembly port, no hashlib.sha1).

CPython computes the expected values (RFC vectors, pyotp, hashlib); the
VM runs fobcore on them and reports each mismatch.
"""

import base64
import hashlib
import json
import random

from mpvm import FOBCORE, run
from oracles import pyotp_totp_at
from vectors import RFC4226_HOTP, RFC4226_KEY, RFC6238_KEYS, RFC6238_TOTP

VM_CHECK = """
import binascii, json, sys
from fobcore import base32, otp
from fobcore.sha1 import sha1
with open("/cases/cases.json") as f:
    cases = json.load(f)
executed = failed = 0
for kind, args, expected in cases:
    executed += 1
    if kind == "hotp":
        got = otp.hotp(bytes.fromhex(args[0]), args[1], args[2], args[3])
    elif kind == "totp":
        got = otp.totp(bytes.fromhex(args[0]), args[1], args[2], args[3], args[4], args[5])
    elif kind == "seconds_left":
        got = otp.seconds_left(args[0], args[1], args[2])
    elif kind == "sha1":
        got = sha1(bytes.fromhex(args[0])).hexdigest()
    elif kind == "base32":
        got = binascii.hexlify(base32.decode(args[0])).decode()  # b"".hex() is b"" here
    elif kind == "supported":
        got = list(otp.supported_algorithms())
    if got != expected:
        failed += 1
        print("MISMATCH", kind, args, expected, got)
print("RESULT", sys.implementation.name, executed, failed)
"""


def _cases():
    rng = random.Random(6238)
    cases = [["hotp", [RFC4226_KEY.hex(), c, 6, "sha1"], code] for c, code in enumerate(RFC4226_HOTP)]
    # The VM has hashlib.sha256 but no sha1 or sha512: run what it supports.
    cases += [["totp", [RFC6238_KEYS[a].hex(), t, 30, 8, a, 0], code] for t, a, code in RFC6238_TOTP if a != "sha512"]
    for _ in range(300):
        algorithm = rng.choice(["sha1", "sha1", "sha256"])
        key = rng.randbytes(rng.choice([10, 20, 32, 64, 70]))
        t = rng.randrange(0, 2**33)
        period = rng.choice([30, 60, 60, 90, rng.randrange(1, 3600)])
        digits = rng.randrange(6, 11)
        expected = pyotp_totp_at(key, t, period=period, digits=digits, algorithm=algorithm)
        cases.append(["totp", [key.hex(), t, period, digits, algorithm, 0], expected])
        cases.append(["seconds_left", [t, period, 0], period - t % period])
    for length in range(301):
        message = rng.randbytes(length)
        cases.append(["sha1", [message.hex()], hashlib.sha1(message).hexdigest()])
    for length in range(0, 41, 3):
        data = rng.randbytes(length)
        text = base64.b32encode(data).decode()
        cases.append(["base32", [text.lower().rstrip("=")], data.hex()])
    cases.append(["supported", [], ["sha1", "sha256"]])
    return cases


def test_core_inside_micropython(tmp_path, vm_cases, micropython_port):
    cases = _cases()
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    output = run(VM_CHECK, copies=(FOBCORE, (tmp_path, "/cases")), port=micropython_port)
    mismatches = [line for line in output.splitlines() if line.startswith("MISMATCH")]
    assert not mismatches, "\n".join(mismatches[:20])
    result = output.splitlines()[-1].split()
    assert result[:2] == ["RESULT", "micropython"]
    executed, failed = int(result[2]), int(result[3])
    vm_cases.append(("OTP core: RFC vectors, pyotp cases, SHA-1 lengths 0-300, base32", executed))
    assert executed == len(cases) and failed == 0


def test_unsupported_algorithm_names_itself_in_micropython(micropython_port):
    output = run(
        """
from fobcore import otp
try:
    otp.totp(b"k" * 64, 59, algorithm="sha512")
except ValueError as e:
    print(e)
""",
        port=micropython_port,
    )
    assert output.strip() == "algorithm 'sha512' is not available on this interpreter (supported: sha1, sha256)"
