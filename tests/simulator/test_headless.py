"""The headless simulator provisioned by the real `fob provision` over its pty, codes checked with pyotp."""

import csv
import time

import pytest

from fobcore import base32
from oracles import pyotp_totp_at
from simproc import SimProcess, fob


def _export_seed(inventory, serial, tmp_path):
    out = tmp_path / ("%s.csv" % serial)
    fob("export", "--format", "csv", "--plaintext", "-o", out, "--inventory", inventory, serial)
    (row,) = csv.DictReader(out.open())
    return base32.decode(row["secret_base32"])


def _provision(sim, inventory):
    done = fob("provision", "--port", sim.port, "--inventory", inventory)
    assert "provisioned and sealed" in done.stdout
    sealed = sim.next_event("state", state="SEALED")
    return sealed["serial"]


def _assert_code_is_pyotps(event, seed):
    assert event["code"] == pyotp_totp_at(seed, event["time"])


def test_provision_press_and_compare_with_pyotp(tmp_path):
    inventory = tmp_path / "inventory.sqlite3"
    with SimProcess(tmp_path / "fob", "--blank", "--display-timeout", "2") as sim:
        sim.next_event("state", state="BLANK")
        serial = _provision(sim, inventory)
        seed = _export_seed(inventory, serial, tmp_path)
        info = fob("info", "--port", sim.port).stdout
        assert "SEALED" in info and serial in info
        sim.next_event("display", on=False)
        sim.press()
        event = sim.next_event("code", serial=serial)
        _assert_code_is_pyotps(event, seed)
        assert abs(event["time"] - time.time()) < 5


@pytest.mark.parametrize(("offset", "drift_ppm", "speed"), [(-3600, 0, 1), (90, 200_000, 50)])
def test_offset_and_drift_survive_restart(tmp_path, offset, drift_ppm, speed):
    inventory = tmp_path / "inventory.sqlite3"
    with SimProcess(tmp_path / "fob", "--blank") as sim:
        serial = _provision(sim, inventory)
    seed = _export_seed(inventory, serial, tmp_path)
    # A long display timeout: at --speed 50 the default 30 fob seconds last 0.6 host seconds.
    options = ("--offset", offset, "--drift-ppm", drift_ppm, "--speed", speed, "--display-timeout", 3600)
    with SimProcess(tmp_path / "fob", *options) as sim:
        started = time.time()
        first = sim.next_event("code", serial=serial)
        _assert_code_is_pyotps(first, seed)
        assert abs(first["time"] - (started + offset)) < 5
        if speed > 1:  # the next step comes within a host second or two
            later = sim.next_event("code", serial=serial)
            _assert_code_is_pyotps(later, seed)
            assert later["time"] - first["time"] >= 1
    with SimProcess(tmp_path / "fob") as sim:  # the RTC kept running, drifting, while closed
        event = sim.next_event("code", serial=serial)
        _assert_code_is_pyotps(event, seed)
        assert event["time"] - time.time() > offset - 5


def test_two_fobs_at_once(tmp_path):
    inventory = tmp_path / "inventory.sqlite3"
    with SimProcess(tmp_path / "a", "--blank", "--name", "a") as a, SimProcess(tmp_path / "b", "--blank") as b:
        assert a.port != b.port
        serials = [_provision(sim, inventory) for sim in (a, b)]
        assert serials[0] != serials[1]
        for sim, serial in zip((a, b), serials, strict=True):
            sim.press()  # the press event says what it shows, also a code already on the display
            shown = sim.next_event("press", shows="code", serial=serial)
            _assert_code_is_pyotps(shown, _export_seed(inventory, serial, tmp_path))


def test_a_blank_fob_shows_no_code(tmp_path):
    with SimProcess(tmp_path / "fob", "--blank", "--display-timeout", "1") as sim:
        assert sim.next_event("state")["state"] == "BLANK"
        sim.press()
        sim.next_event("display", on=True)
        sim.next_event("display", on=False)
        assert not [event for event in sim.pending_events() if event["event"] == "code"]


def test_one_token_cannot_run_in_two_simulators(tmp_path):
    with SimProcess(tmp_path / "fob", "--blank") as sim:
        sim.next_event("state")
        second = fob("sim", "--headless", "--dir", tmp_path / "fob", check=False)
        assert second.returncode == 2
        assert "already running in another simulator" in second.stderr and second.stderr.count("\n") == 1
        assert fob("info", "--port", sim.port).returncode == 0  # the first one is untouched
    with SimProcess(tmp_path / "fob") as sim:  # free again once the first has stopped
        sim.next_event("state")
