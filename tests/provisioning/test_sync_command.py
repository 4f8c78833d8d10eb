"""`fob sync` against a sealed fob on a pty: repaired from the inventory, or refused in one line, nothing changed."""

import re

import pytest

from fobcore.token import Token
from fobhost.cli import main
from fobhost.infocmd import offset_text
from fobhost.inventory import Inventory, key_path_for
from oracles import pyotp_totp_at


def fob_main(*argv):
    return main([str(a) for a in argv])


def provisioned(fob, inventory_path, capsys):
    assert fob_main("provision", "--port", fob.port, "--inventory", inventory_path) == 0
    capsys.readouterr()
    return fob.token.serial


def sync(fob, inventory_path, *extra):
    return fob_main("sync", "--port", fob.port, "--inventory", inventory_path, "--by", "desk-7", *extra)


def corrections(inventory_path, serial):
    with Inventory(inventory_path) as inventory:
        return [(c.old_time, c.new_time, c.who, c.forced) for c in inventory.corrections(serial)]


def test_a_fob_five_minutes_fast_is_corrected_and_logged(fob, inventory_path, capsys):
    serial = provisioned(fob, inventory_path, capsys)
    seed = fob.token.record.seed
    fob.board.set_time(fob.board.time() + 300)
    fast = fob.board.time()
    assert sync(fob, inventory_path) == 0
    out = capsys.readouterr().out
    moved = re.fullmatch(r"fob %s: clock .* UTC -> .* UTC \(([+-]\d+) s\)\n" % serial, out)
    assert moved and -301 <= int(moved.group(1)) <= -299
    [(old, new, who, forced)] = corrections(inventory_path, serial)
    assert abs(old - fast) <= 1 and abs(new - (fast - 300)) <= 1 and who == "desk-7" and not forced
    told, host_then = fob.board.set_calls[-1]
    assert told == new and round(host_then) == told  # aimed at the second boundary, as at provisioning
    assert fob.token.serial == serial and fob.token.record.seed == seed and fob.token.state == "SEALED"
    assert fob.token.code_now()[0] == pyotp_totp_at(seed, fob.board.time())


def test_a_fob_whose_rtc_was_lost_is_repaired(fob, inventory_path, capsys):
    serial = provisioned(fob, inventory_path, capsys)
    fob.board.unix_time = None  # a flat coin cell: state CLOCK
    fob.token.__init__(fob.board)  # and the reboot that came with it
    assert fob.token.state == "CLOCK"
    assert sync(fob, inventory_path) == 0
    assert "clock lost -> " in capsys.readouterr().out
    [(old, _, _, forced)] = corrections(inventory_path, serial)
    assert old is None and not forced and fob.token.state == "SEALED"


def test_a_correction_beyond_the_bound_needs_force_and_is_logged_as_forced(fob, inventory_path, capsys):
    serial = provisioned(fob, inventory_path, capsys)
    fob.board.set_time(fob.board.time() - 3600)
    before = fob.files()
    assert sync(fob, inventory_path) == 2
    err = capsys.readouterr().err
    assert "refused the correction" in err and "--force applies it anyway" in err and fob.files() == before
    assert corrections(inventory_path, serial) == []
    assert sync(fob, inventory_path, "--force") == 0
    assert "forced" in capsys.readouterr().out
    assert [c[3] for c in corrections(inventory_path, serial)] == [True] and fob.token.record.forced == 1


def test_a_fob_not_in_the_inventory_is_refused(fob, inventory_path, tmp_path, capsys):
    provisioned(fob, inventory_path, capsys)
    other = tmp_path / "other.sqlite3"
    Inventory(other).close()
    before = fob.files(), fob.board.time()
    assert sync(fob, other) == 2
    assert "is not in the inventory" in capsys.readouterr().err and (fob.files(), fob.board.time()) == before


def test_a_missing_inventory_is_refused_without_creating_one(fob, tmp_path, capsys):
    assert sync(fob, tmp_path / "none.sqlite3") == 2
    assert "no inventory there" in capsys.readouterr().err and not (tmp_path / "none.sqlite3").exists()


def test_a_wrong_inventory_key_is_refused(fob, inventory_path, capsys):
    provisioned(fob, inventory_path, capsys)
    key = key_path_for(inventory_path)
    key.write_bytes(b"k" * 32)
    before = fob.files(), fob.board.time()
    assert sync(fob, inventory_path) == 2
    assert "does not decrypt: wrong key file" in capsys.readouterr().err and (fob.files(), fob.board.time()) == before


@pytest.mark.parametrize("seal", [False, True])
def test_a_fob_that_is_not_sealed_is_refused(fob, inventory_path, capsys, seal):
    fob.board.set_time(1_800_000_000)
    if seal:  # sealed but blank again: wiped
        provisioned(fob, inventory_path, capsys)
        fob.token.wipe()
    else:
        Inventory(inventory_path).close()
        fob.token.provision(b"s" * 20, "sha1", 6, 60, "1000000016", 1_900_000_000)
    before = fob.files()
    assert sync(fob, inventory_path) == 2
    err = capsys.readouterr().err
    assert ("has no seed" in err) if seal else ("is not sealed (state ACTIVE)" in err)
    assert fob.files() == before


def test_a_fob_whose_seed_is_not_the_inventorys_is_refused(fob, make_fob, inventory_path, tmp_path, capsys):
    serial = provisioned(fob, inventory_path, capsys)
    impostor = make_fob()  # same serial number, another seed: provisioned into another inventory
    impostor.board.set_time(fob.board.time())
    impostor.token.provision(b"i" * 20, "sha1", 6, 60, serial, fob.token.record.expiry)
    impostor.token.seal()
    before = impostor.files(), impostor.board.time()
    assert sync(impostor, inventory_path) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "fob sync: error: fob %s refused the proof: the inventory's seed for %s is not the one on this fob;"
        " nothing changed" % (serial, serial)
    )
    assert (impostor.files(), impostor.board.time()) == before and corrections(inventory_path, serial) == []


def test_errors_never_carry_the_seed(fob, inventory_path, capsys):
    provisioned(fob, inventory_path, capsys)
    seed = fob.token.record.seed
    fob.board.set_time(fob.board.time() - 3600)
    sync(fob, inventory_path)
    captured = capsys.readouterr()
    assert seed.hex() not in captured.out + captured.err


def test_a_bad_by_is_a_usage_error(fob, inventory_path, capsys):
    assert sync(fob, inventory_path, "--by", "") == 2
    assert "--by must be" in capsys.readouterr().err


def test_the_token_class_keeps_corrections_across_a_reset(fob, inventory_path, capsys):
    provisioned(fob, inventory_path, capsys)
    fob.board.set_time(fob.board.time() + 120)
    assert sync(fob, inventory_path) == 0
    assert Token(fob.board).record.known >= fob.board.time() - 1


def trimmable(fob, whole_seconds=False):
    class Trimmable(type(fob.board)):
        trim = 0

        def time_ms(self):
            ms = super().time_ms()
            return None if whole_seconds or ms is None else ms

        def time(self):
            ms = super().time_ms()
            return None if ms is None else ms // 1000

        def aging(self):
            return self.trim

        def set_aging(self, value):
            self.trim = value

    fob.board.__class__ = Trimmable
    return fob.board


@pytest.mark.parametrize("whole_seconds", [False, True])  # INFO with ms, or a DS3231's whole seconds
def test_trim_sets_the_aging_offset_from_the_drift_since_the_last_correction(
    fob, inventory_path, capsys, whole_seconds
):
    serial = provisioned(fob, inventory_path, capsys)
    board = trimmable(fob, whole_seconds)
    assert sync(fob, inventory_path) == 0
    with Inventory(inventory_path) as inventory:  # as if that correction was ten days ago...
        inventory._db.execute("UPDATE clock_corrections SET new_time = new_time - 864000")
    board.unix_time += 8.64  # ...and the fob gained 8.64 s since: 10 ppm fast
    capsys.readouterr()
    assert sync(fob, inventory_path, "--trim") == 0
    trimmed = re.search(
        r"([+-]\d+\.\d\d) ppm since the last correction; aging trim \+0 -> \+(\d+)", capsys.readouterr().out
    )
    assert (
        9.9 < float(trimmed.group(1)) < 10.1
        and 99 <= int(trimmed.group(2)) <= 101
        and board.trim == int(trimmed.group(2))
    )
    assert [c.aging for c in Inventory(inventory_path).corrections(serial)] == [None, board.trim]


def test_trim_needs_an_earlier_correction_days_ago_and_a_trimmable_clock(fob, inventory_path, capsys):
    provisioned(fob, inventory_path, capsys)
    before = fob.files(), fob.board.time()
    assert sync(fob, inventory_path, "--trim") == 2
    assert "has no aging trim (no DS3231)" in capsys.readouterr().err
    trimmable(fob)
    assert sync(fob, inventory_path, "--trim") == 2
    assert "at least 2 days ago" in capsys.readouterr().err and (fob.files(), fob.board.time()) == before


@pytest.mark.parametrize(
    ("time_field", "ms", "received", "round_trip", "shown"),
    [
        (1_800_000_000, 250, 1_800_000_000.26, 0.02, "+0.000 s"),  # read 10 ms before its reply arrived
        (1_800_000_000, 0, 1_800_000_001.0, 0.0, "-1.000 s"),
        (1_800_000_000, None, 1_800_000_000.4, 0.0, "+0 s, to the second"),  # somewhere in the second it said
        (1_800_000_005, None, 1_800_000_000.9, 0.2, "+5 s, to the second"),
    ],
)
def test_fob_info_shows_the_offset_to_the_millisecond_where_the_fob_tells_them(
    time_field, ms, received, round_trip, shown
):
    assert offset_text({"time": time_field, "ms": ms}, received, round_trip) == shown
