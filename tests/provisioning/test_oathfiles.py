"""`fob export --format usersfile` checked by liboath's own usersfile check (the library pam_oath uses,
called through ctypes), and `--format oathcsv` as privacyIDEA's OATH CSV (tests/test_privacyidea.py)."""

import ctypes
import ctypes.util
import time

import pytest

from fobhost.cli import main
from fobhost.inventory import Inventory
from oracles import pyotp_totp_at
from peers import missing

EXPIRY = 1_900_000_000
TOKENS = {
    "1000000016": (bytes(range(20)), "sha1", 6, 60),
    "1000000024": (bytes(range(100, 132)), "sha256", 8, 30),
    "123456789012": (bytes(range(64)), "sha512", 10, 90),
}
SHA1_SERIAL = "1000000016"


def export(inventory_path, *argv):
    return main(["export", "--inventory", str(inventory_path), *argv])


@pytest.fixture(scope="module")
def liboath():
    name = ctypes.util.find_library("oath")
    if name is None:
        missing("liboath is not installed (Debian package liboath0)")
    library = ctypes.CDLL(name)
    library.oath_authenticate_usersfile.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int64),
    ]
    library.oath_strerror_name.restype = ctypes.c_char_p
    assert library.oath_init() == 0
    return library


@pytest.fixture
def filled(inventory_path):
    with Inventory(inventory_path) as inventory:
        for serial, (seed, algorithm, digits, period) in TOKENS.items():
            inventory.record(serial, seed, algorithm, digits, period, EXPIRY, "fake", "0.1.0")
    return inventory_path


def check(liboath, usersfile, user, code):
    """liboath's answer by its name in oath.h (OATH_OK, OATH_REPLAYED_OTP, ...)."""
    last = ctypes.c_int64()
    answer = liboath.oath_authenticate_usersfile(str(usersfile).encode(), user.encode(), code.encode(), 1, None, last)
    return liboath.oath_strerror_name(answer).decode()


def test_liboath_accepts_the_fobs_code_once(filled, tmp_path, liboath):
    (tmp_path / "users").write_text("# serial user\n%s alice\n" % SHA1_SERIAL)
    out = tmp_path / "users.oath"
    argv = ["--format", "usersfile", "--users", str(tmp_path / "users"), "--plaintext", "-o", str(out)]
    assert export(filled, *argv) == 0
    assert out.read_text().splitlines()[1] == "HOTP/T60/6\talice\t-\t" + bytes(range(20)).hex()
    seed, algorithm, digits, period = TOKENS[SHA1_SERIAL]
    code = pyotp_totp_at(seed, time.time(), period, digits, algorithm)
    wrong = "%06d" % ((int(code) + 1) % 10**6)
    assert check(liboath, out, "alice", wrong) == "OATH_INVALID_OTP"
    assert check(liboath, out, "bob", code) == "OATH_UNKNOWN_USER"
    assert check(liboath, out, "alice", code) == "OATH_OK"
    assert check(liboath, out, "alice", code) == "OATH_REPLAYED_OTP"


@pytest.mark.parametrize(
    "users, argv, message",
    [
        ("1000000016 alice\n1000000024 bob\n", [], "only HMAC-SHA1 fobs; these are not: 1000000024"),
        ("1000000016 alice\n", ["1000000024"], "gives no user for: 1000000024"),
        ("1000000016 al ice\n", [], "line 1: expected SERIAL USER"),
        ("1000000016 alice\n1000000016 bob\n", [], "line 2: serial 1000000016 is mapped twice"),
        ("# nobody\n", [], "names no fobs"),
        ("99999999 alice\n", [], "not in the inventory: 99999999"),
    ],
)
def test_bad_usersfile_requests_write_nothing(filled, tmp_path, capsys, users, argv, message):
    (tmp_path / "users").write_text(users)
    out = tmp_path / "users.oath"
    options = ["--format", "usersfile", "--users", str(tmp_path / "users"), "--plaintext", "-o", str(out)]
    assert export(filled, *options, *argv) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_usersfile_needs_its_map_and_plaintext(filled, tmp_path, capsys):
    out = str(tmp_path / "x")
    assert export(filled, "--format", "usersfile", "--plaintext", "-o", out) == 2
    assert export(filled, "--format", "oathcsv", "--users", out, "--plaintext", "-o", out) == 2
    assert export(filled, "--format", "oathcsv", "--password-file", out, "-o", out) == 2
    err = capsys.readouterr().err
    assert err.count("--users goes with --format usersfile") == 2 and "oathcsv cannot be encrypted" in err


def test_oathcsv_lines(filled, tmp_path):
    out = tmp_path / "seeds.csv"
    assert export(filled, "--format", "oathcsv", "--plaintext", "-o", str(out)) == 0
    assert out.read_text().splitlines() == [
        "1000000016, %s, totp, 6, 60" % bytes(range(20)).hex(),
        "1000000024, %s, totp, 8, 30" % bytes(range(100, 132)).hex(),
        "123456789012, %s, totp, 10, 90" % bytes(range(64)).hex(),
    ]


def test_oathcsv_refuses_a_seed_whose_length_would_mislead_the_importer(inventory_path, tmp_path, capsys):
    with Inventory(inventory_path) as inventory:
        inventory.record("1000000032", bytes(32), "sha1", 6, 30, EXPIRY, "fake", "0.1.0")
    assert export(inventory_path, "--format", "oathcsv", "--plaintext", "-o", str(tmp_path / "x")) == 2
    assert "these fobs do not fit: 1000000032" in capsys.readouterr().err
