"""The token's states and rules under CPython, on the fake board and real files."""

import pytest
from fakeboard import FakeBoard

from fobcore import VERSION
from fobcore.record import Record, Store, encode
from fobcore.token import MIN_TIME, Token, TokenError
from oracles import pyotp_totp_at

NOW = 1_800_000_000
SEED = bytes(range(1, 21))
YEAR = 365 * 86400


def provisioned(tmp_path, seal=False, **params):
    board = FakeBoard(tmp_path, NOW)
    token = Token(board)
    args = dict(seed=SEED, algorithm="sha1", digits=6, period=60, serial="12345678", expiry=NOW + 5 * YEAR)
    args.update(params)
    token.provision(**args)
    if seal:
        token.seal()
    return board, token


def refused(code, call, *args):
    with pytest.raises(TokenError) as raised:
        call(*args)
    assert raised.value.code == code
    assert SEED.hex() not in str(raised.value) and repr(SEED) not in str(raised.value)
    return raised.value


def test_blank_token_reports_itself(tmp_path):
    token = Token(FakeBoard(tmp_path, NOW))
    info = token.info()
    assert info["state"] == "BLANK" and info["serial"] == "" and info["expiry"] is None
    assert info["firmware"] == VERSION and info["board"] == "fake" and info["time"] == NOW
    assert info["algorithms"] == ["sha1", "sha256", "sha512"] and info["free"] > 0 and info["battery"] is None
    refused("blank", token.check)
    refused("blank", token.seal)


@pytest.mark.parametrize("algorithm,digits,period", [("sha1", 6, 60), ("sha256", 8, 30), ("sha512", 10, 3600)])
def test_active_token_gives_pyotp_codes(tmp_path, algorithm, digits, period):
    board, token = provisioned(tmp_path, algorithm=algorithm, digits=digits, period=period)
    assert token.state == "ACTIVE"
    for step in range(5):
        board.set_time(NOW + step * 37)
        assert token.check() == pyotp_totp_at(SEED, NOW + step * 37, period, digits, algorithm)
    # A fresh boot reads the same record back.
    assert Token(board).check() == token.check()


def test_seal_freezes_the_token_and_the_repl(tmp_path):
    board, token = provisioned(tmp_path)
    assert board.kbd_intr_enabled
    token.seal()
    assert token.state == "SEALED" and token.info()["sealed"] and not board.kbd_intr_enabled
    refused("sealed", token.check)
    refused("sealed", token.set_time, NOW)
    refused("sealed", token.provision, SEED, "sha1", 6, 60, "12345678", NOW + YEAR)
    refused("sealed", token.seal)
    code, left, period = token.code_now()
    assert code == pyotp_totp_at(SEED, NOW) and left == 60 - NOW % 60 and period == 60
    # After a power cycle the board boots sealed, Ctrl-C disabled.
    board.kbd_intr_enabled = True
    assert Token(board).state == "SEALED" and not board.kbd_intr_enabled


def test_wipe_returns_to_blank_keeping_the_serial(tmp_path):
    board, token = provisioned(tmp_path, seal=True)
    token.wipe()
    assert token.state == "BLANK" and token.serial == "12345678" and board.kbd_intr_enabled
    assert Store(str(tmp_path)).load().seed == b""
    token.provision(SEED, "sha256", 6, 60, "99999999", NOW + YEAR)
    assert token.state == "ACTIVE" and token.serial == "99999999"


def test_expired_token_shows_no_code(tmp_path):
    board, token = provisioned(tmp_path, expiry=NOW + 100)
    board.advance(99)
    assert token.state == "ACTIVE"
    board.advance(1)
    assert token.state == "EXPIRED"
    refused("expired", token.check)
    refused("expired", token.code_now)
    refused("expired", token.seal)


@pytest.mark.parametrize("clock", [None, 0, 946684800, MIN_TIME - 1, 4102444800])
def test_unset_or_implausible_clock_is_the_clock_state(tmp_path, clock):
    board, token = provisioned(tmp_path, seal=True)
    board.set_time(clock)
    assert token.state == "CLOCK" and token.info()["sealed"]
    refused("clock", token.code_now)


def test_provisioning_needs_a_set_clock(tmp_path):
    token = Token(FakeBoard(tmp_path, None))
    refused("clock", token.provision, SEED, "sha1", 6, 60, "12345678", NOW + YEAR)
    token.set_time(NOW)
    token.provision(SEED, "sha1", 6, 60, "12345678", NOW + YEAR)
    assert token.state == "ACTIVE"


@pytest.mark.parametrize(
    "change,code",
    [
        (dict(seed=b"x" * 15), "bad_param"),
        (dict(seed=b"x" * 65), "bad_param"),
        (dict(seed="a string"), "bad_param"),
        (dict(algorithm="md5"), "unsupported"),
        (dict(algorithm="SHA1"), "unsupported"),
        (dict(digits=5), "bad_param"),
        (dict(digits=11), "bad_param"),
        (dict(digits=True), "bad_param"),
        (dict(digits="6"), "bad_param"),
        (dict(period=0), "bad_param"),
        (dict(period=3601), "bad_param"),
        (dict(serial="1234567"), "bad_param"),
        (dict(serial="1234567890123"), "bad_param"),
        (dict(serial="1234567a"), "bad_param"),
        (dict(serial="١٢٣٤٥٦٧٨"), "bad_param"),
        (dict(serial=12345678), "bad_param"),
        (dict(expiry=NOW), "bad_param"),
        (dict(expiry=NOW - 1), "bad_param"),
        (dict(expiry=float(NOW + YEAR)), "bad_param"),
    ],
)
def test_bad_provisioning_parameters_change_nothing(tmp_path, change, code):
    board, token = provisioned(tmp_path, seed=b"k" * 32, serial="11111111")
    before = (tmp_path / "seed.rec").read_bytes()
    args = dict(seed=SEED, algorithm="sha1", digits=6, period=60, serial="12345678", expiry=NOW + YEAR)
    args.update(change)
    refused(code, token.provision, *args.values())
    assert (tmp_path / "seed.rec").read_bytes() == before and token.serial == "11111111"


@pytest.mark.parametrize("value", [MIN_TIME - 1, 4102444800, "1800000000", 1.8e9, True, None])
def test_bad_times_are_refused(tmp_path, value):
    board = FakeBoard(tmp_path, NOW)
    refused("bad_param", Token(board).set_time, value)
    assert board.time() == NOW


def test_record_repr_and_errors_never_show_the_seed(tmp_path):
    board, token = provisioned(tmp_path)
    assert SEED.hex() not in repr(token.record) and repr(SEED) not in repr(token.record)
    assert SEED.hex() not in repr(token.info()) and repr(SEED) not in repr(token.info())


def test_a_record_on_storage_is_read_at_boot(tmp_path):
    (tmp_path / "seed.rec").write_bytes(encode(Record(SEED, "sha1", 6, 60, "12345678", NOW + YEAR)))
    token = Token(FakeBoard(tmp_path, NOW))
    assert token.state == "ACTIVE" and token.check() == pyotp_totp_at(SEED, NOW)
