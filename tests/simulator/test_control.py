"""The control channel: a script drives the simulated fob through JSON lines on standard input."""

import time

import pytest

from fobhost.inventory import Inventory
from simproc import SimProcess, fob


@pytest.fixture
def sim(tmp_path):
    with SimProcess(tmp_path / "fob", "--blank", "--display-timeout", "3600") as running:
        running.next_event("state", state="BLANK")
        yield running


def _provision(sim, tmp_path):
    done = fob("provision", "--port", sim.port, "--inventory", tmp_path / "inv", check=False)
    return done


def test_clock_jump_drift_and_a_flat_rtc(sim, tmp_path):
    assert _provision(sim, tmp_path).returncode == 0
    sim.next_event("state", state="SEALED")
    sim.send("clock", jump=86400)
    jumped = sim.next_event("clock")
    assert abs(jumped["time"] - (time.time() + 86400)) < 5
    sim.send("press")
    assert abs(sim.next_event("press")["time"] - (time.time() + 86400)) < 5
    sim.send("clock", drift_ppm=250)
    assert sim.next_event("clock")["drift_ppm"] == 250
    sim.send("rtc-flat")
    assert sim.next_event("clock")["time"] is None
    sim.send("long-press", ms=1500)
    sim.next_event("state", state="CLOCK")  # seen when the press redraws, just before the press event
    assert sim.next_event("press")["shows"] == "CLOCK"


def test_unplug_and_plug_usb(sim, tmp_path):
    old = sim.port
    sim.send("unplug")
    assert sim.next_event("usb") == {"event": "usb", "plugged": False}
    assert fob("info", "--port", old, "--timeout", "0.3", check=False).returncode == 2
    sim.send("plug")
    new = sim.next_event("usb", plugged=True)["port"]
    assert "BLANK" in fob("info", "--port", new).stdout


@pytest.mark.parametrize(("point", "after"), [("write", 0), ("write", 17), ("rename", 0), ("renamed", 0)])
def test_a_power_cut_during_the_seed_record_write(sim, tmp_path, point, after):
    """Whatever point the power goes, the fob boots to a state the desk can handle; nothing is recorded."""
    sim.send("power-cut", at=point, bytes=after)
    done = _provision(sim, tmp_path)
    power = sim.next_event("power")
    assert power["cut"] == point
    assert done.returncode != 0 and "Traceback" not in done.stderr
    with Inventory(tmp_path / "inv") as inventory:
        assert inventory.tokens() == []
    info = fob("info", "--port", sim.port).stdout
    state = [line.split()[1] for line in info.splitlines() if line.startswith("state")][0]
    assert state in ("BLANK", "ACTIVE")  # "renamed": the new record made it, unsealed: the desk wipes and redoes it
    fob("wipe", "--port", sim.port, "--yes")
    assert _provision(sim, tmp_path).returncode == 0  # the fob is usable again


def test_bad_control_lines_are_error_events_and_the_fob_goes_on(sim):
    for line in ['{"cmd": "explode"}', "not json", '{"cmd": "clock", "jump": "soon"}', '{"cmd": "press", "x": 1}']:
        sim.process.stdin.write(line + "\n")
        sim.process.stdin.flush()
        assert "error" in sim.next_event("error")
    sim.send("press")
    assert sim.next_event("press")["shows"] == "BLANK"
