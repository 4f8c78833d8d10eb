"""`fob export` (PSKC via python-pskc, checked by pskctool; CSV) and `fob label` (read back by zbarimg)."""

import base64
import csv
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pskc
import pytest

from fobhost.cli import main
from fobhost.inventory import Inventory
from oracles import pyotp_totp_at
from peers import require

EXPIRY = 1_900_000_000
TOKENS = {
    "1000000016": (bytes(range(20)), "sha1", 6, 60),
    "1000000024": (bytes(range(100, 132)), "sha256", 8, 30),
    "123456789012": (bytes(range(64)), "sha512", 10, 90),
}


@pytest.fixture
def filled(inventory_path):
    with Inventory(inventory_path) as inventory:
        for serial, (seed, algorithm, digits, period) in TOKENS.items():
            inventory.record(serial, seed, algorithm, digits, period, EXPIRY, "fake", "0.1.0")
    return inventory_path


def export(inventory_path, *argv):
    return main(["export", "--inventory", str(inventory_path), *argv])


def check_pskc(document, serials):
    assert [key.id for key in document.keys] == serials
    for key in document.keys:
        seed, algorithm, digits, period = TOKENS[key.id]
        assert key.secret == seed
        assert (key.algorithm, key.algorithm_suite) == (
            "urn:ietf:params:xml:ns:keyprov:pskc:totp",
            "HMAC-" + algorithm.upper(),
        )
        assert (key.time_interval, key.time_offset, key.response_length, key.response_encoding) == (
            period,
            0,
            digits,
            "DECIMAL",
        )
        assert (key.manufacturer, key.serial, key.expiry_date.timestamp()) == ("oath.fobkit", key.id, EXPIRY)


def validate(path):
    """libpskc's schema check, and its reading: no field it finds non-compliant (e.g. the Manufacturer)."""
    pskctool = require("pskctool", "pskctool")
    done = subprocess.run([pskctool, "--validate", "--quiet", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([pskctool, "--info", "--debug", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and "Manufacturer: oath.fobkit" in done.stdout, done.stdout + done.stderr
    assert "non-compliant" not in done.stderr, done.stderr


def algorithms(text):
    """The last part of each algorithm URI a PSKC document names (cipher, MAC, key derivation, OTP)."""
    named = (element.get("Algorithm") for element in ET.fromstring(text).iter())
    return {re.split("[#:]", uri)[-1] for uri in named if uri}


def test_plaintext_pskc(filled, tmp_path):
    out = tmp_path / "seeds.pskc"
    assert export(filled, "-o", str(out), "--plaintext") == 0
    assert os.stat(out).st_mode & 0o777 == 0o600
    check_pskc(pskc.PSKC(str(out)), sorted(TOKENS))
    validate(out)


def test_password_protected_pskc(filled, tmp_path):
    (tmp_path / "password").write_text("correct horse battery staple\n")
    out = tmp_path / "seeds.pskc"
    assert export(filled, "-o", str(out), "--password-file", str(tmp_path / "password"), "1000000024") == 0
    text = out.read_bytes()
    assert bytes(range(100, 132)).hex().encode() not in text and base64.b64encode(bytes(range(100, 132))) not in text
    root = ET.fromstring(text)
    assert root.find(".//IterationCount").text == "1300000"  # OWASP's figure for PBKDF2-HMAC-SHA1
    assert root.find(".//PRF") is None  # RFC 8018's default PRF: HMAC-SHA1, what privacyIDEA always uses
    assert algorithms(text) == {"pbkdf2", "hmac-sha1", "aes128-cbc", "totp"}
    document = pskc.PSKC(str(out))
    with pytest.raises(pskc.exceptions.DecryptionError):
        assert document.keys[0].secret  # no password given yet
    document.encryption.derive_key("correct horse battery staple")
    check_pskc(document, ["1000000024"])
    validate(out)


def test_the_stronger_profile(filled, tmp_path):
    (tmp_path / "password").write_text("correct horse battery staple\n")
    out = tmp_path / "seeds.pskc"
    profile = ["--profile", "aes256-hmac-sha256"]
    assert export(filled, "-o", str(out), "--password-file", str(tmp_path / "password"), *profile) == 0
    text = out.read_bytes()
    assert ET.fromstring(text).find(".//IterationCount").text == "600000"  # OWASP's for PBKDF2-HMAC-SHA256
    prf = ET.fromstring(text).find(".//PRF")
    assert prf.get("Algorithm").endswith("#hmac-sha256") and not (prf.text or "").strip()  # RFC 8018's form
    assert algorithms(text) == {"pbkdf2", "hmac-sha256", "aes256-cbc", "totp"}
    document = pskc.PSKC(str(out))
    document.encryption.derive_key("correct horse battery staple")
    check_pskc(document, sorted(TOKENS))
    validate(out)
    key = os.urandom(32)
    (tmp_path / "desk.key").write_text(key.hex())
    assert export(filled, "-o", str(out), "--psk-file", str(tmp_path / "desk.key"), *profile, "--force") == 0
    assert algorithms(out.read_bytes()) == {"hmac-sha256", "aes256-cbc", "totp"}
    document = pskc.PSKC(str(out))
    document.encryption.key = key
    check_pskc(document, sorted(TOKENS))


def test_psk_protected_pskc(filled, tmp_path):
    key = os.urandom(16)
    (tmp_path / "desk.key").write_text(key.hex() + "\n")
    out = tmp_path / "seeds.pskc"
    assert export(filled, "-o", str(out), "--psk-file", str(tmp_path / "desk.key")) == 0
    assert algorithms(out.read_bytes()) == {"hmac-sha1", "aes128-cbc", "totp"}
    document = pskc.PSKC(str(out))
    assert document.encryption.key_name == "desk.key"
    document.encryption.key = key
    check_pskc(document, sorted(TOKENS))
    validate(out)


def test_csv(filled, tmp_path):
    out = tmp_path / "seeds.csv"
    assert export(filled, "-o", str(out), "--format", "csv", "--plaintext") == 0
    rows = list(csv.DictReader(out.open()))
    assert [row["serial"] for row in rows] == sorted(TOKENS)
    for row in rows:
        seed, algorithm, digits, period = TOKENS[row["serial"]]
        assert (row["algorithm"], int(row["digits"]), int(row["period"])) == (algorithm, digits, period)
        assert row["expiry"] == "2030-03-17T17:46:40Z"
        secret = base64.b32decode(row["secret_base32"])
        assert pyotp_totp_at(secret, EXPIRY - 1, period, digits, algorithm) == pyotp_totp_at(
            seed, EXPIRY - 1, period, digits, algorithm
        )


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "say how to protect the seeds"),
        (["--format", "csv", "--password-file", "x"], "csv cannot be encrypted"),
        (["--plaintext", "99999999"], "not in the inventory: 99999999"),
        (["--password-file", "missing"], "missing: No such file or directory"),
        (["--password-file", "empty"], "the password file is empty"),
        (["--password-file", "latin1"], "latin1: the password file is not UTF-8 text"),
        (["--psk-file", "short.key"], "must be 16, 24 or 32 bytes (it has 8)"),
        (["--psk-file", "nothex.key"], "must hold the AES key in hex"),
        (["--psk-file", "long.key"], "long.key: the aes128-hmac-sha1 profile needs a 128-bit key, this one has 256"),
        (["--psk-file", "long.key"], "make one with `openssl rand -hex 16 > long.key`"),
        (["--psk-file", "short.key", "--profile", "aes256-hmac-sha256"], "(it has 8)"),
        (["--psk-file", "aes128.key", "--profile", "aes256-hmac-sha256"], "needs a 256-bit key, this one has 128"),
    ],
)
def test_bad_export_requests_write_nothing(filled, tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "latin1").write_bytes("pässwörd\n".encode("latin-1"))
    (tmp_path / "short.key").write_text("00" * 8)
    (tmp_path / "nothex.key").write_text("zz" * 32)
    (tmp_path / "long.key").write_text("ab" * 32)
    (tmp_path / "aes128.key").write_text("ab" * 16)
    assert export(filled, "-o", "out.pskc", *argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.pskc").exists()


def test_export_of_an_empty_inventory_is_refused(inventory_path, tmp_path, capsys):
    Inventory(inventory_path).close()
    assert export(inventory_path, "-o", str(tmp_path / "x.pskc"), "--plaintext") == 2
    assert "holds no fobs" in capsys.readouterr().err


def test_png_label_reads_back_with_a_barcode_scanner(tmp_path):
    zbarimg = require("zbarimg", "zbar-tools")
    for serial in ("10000000", "1000000016", "123456789012"):
        out = tmp_path / ("%s.png" % serial)
        assert main(["label", serial, "-o", str(out)]) == 0
        done = subprocess.run(
            [zbarimg, "--quiet", "--raw", "-Scode128.enable", str(out)], capture_output=True, text=True
        )
        assert done.stdout.strip() == serial


def test_svg_label_shows_the_number_and_bars(tmp_path):
    out = tmp_path / "label.svg"
    assert main(["label", "1000000016", "-o", str(out)]) == 0
    root = ET.parse(out).getroot()
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert [t.text for t in root.iterfind(".//svg:text", ns)] == ["1000000016"]
    bars = [r for r in root.iterfind(".//svg:rect", ns) if "fill:black" in r.get("style", "")]
    assert len(bars) > 20


@pytest.mark.parametrize(
    "serial, output, message",
    [
        ("1234567", "x.svg", "8 to 12 digits"),
        ("12345678", "x.pdf", "end in .svg or .png"),
        ("1234567a", "x.png", "8 to 12"),
    ],
)
def test_bad_label_requests(tmp_path, capsys, serial, output, message):
    assert main(["label", serial, "-o", str(tmp_path / output)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "protection, profile",
    [
        (None, "aes128-hmac-sha1"),
        ("password", "aes128-hmac-sha1"),
        ("password", "aes256-hmac-sha256"),
        ("psk", "aes128-hmac-sha1"),
        ("psk", "aes256-hmac-sha256"),
    ],
)
def test_the_validation_service_reads_the_export(filled, tmp_path, protection, profile):
    from fobauth import pskcimport

    out = tmp_path / "seeds.pskc"
    password = key = None
    argv = ["-o", str(out), "--profile", profile]
    if protection == "password":
        password = "correct horse battery staple"
        (tmp_path / "password").write_text(password + "\n")
        argv += ["--password-file", str(tmp_path / "password")]
    elif protection == "psk":
        key = os.urandom(16 if profile == "aes128-hmac-sha1" else 32)
        (tmp_path / "desk.key").write_text(key.hex())
        argv += ["--psk-file", str(tmp_path / "desk.key")]
    else:
        argv += ["--plaintext"]
    assert export(filled, *argv) == 0
    imported = {t.serial: t for t in pskcimport.read(out.read_bytes(), password, key)}
    assert sorted(imported) == sorted(TOKENS)
    for serial, (seed, algorithm, digits, period) in TOKENS.items():
        token = imported[serial]
        assert (token.secret, token.algorithm, token.digits, token.period) == (seed, algorithm, digits, period)
        assert token.expiry == EXPIRY
