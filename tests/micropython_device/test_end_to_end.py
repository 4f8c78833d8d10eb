"""A blank fob flashed and provisioned by the real `fob` commands, on both engines of `fob sim`.

Under --engine micropython the board starts without firmware: `fob flash
--board sim` installs it through mpremote and mpy-cross, as onto hardware.
"""

import csv
import subprocess
import sys
import time

import pytest

from fobcore import base32
from oracles import pyotp_totp_at
from simproc import SimProcess, fob

MPREMOTE = (sys.executable, "-m", "mpremote")


def _export_seed(inventory, serial, tmp_path):
    out = tmp_path / ("%s.csv" % serial)
    fob("export", "--format", "csv", "--plaintext", "-o", out, "--inventory", inventory, serial)
    (row,) = csv.DictReader(out.open())
    return base32.decode(row["secret_base32"])


def _blank_fob(tmp_path, engine):
    sim = SimProcess(tmp_path / "fob", "--engine", engine, "--blank", "--display-timeout", "2")
    if engine == "micropython":
        done = fob("flash", "--board", "sim", "--port", sim.port)
        assert "flashed sim" in done.stdout
    sim.next_event("state", state="BLANK")
    return sim


def _provision(sim, inventory):
    done = fob("provision", "--port", sim.port, "--inventory", inventory)
    assert "provisioned and sealed" in done.stdout
    return sim.next_event("state", state="SEALED")["serial"]


def _raw_repl_opens(port):
    """Whether mpremote gets into the raw REPL and runs code.

    A sealed fob ignores Ctrl-C, so mpremote waits for a prompt that never
    comes: on a pty it waits for ever, so it is given 6 s (an open REPL answers within one).
    """
    command = [*MPREMOTE, "connect", port, "exec", "print('in' + 'side')"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=6, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as expired:
        return "inside" in (expired.stdout or b"").decode(errors="replace")
    return done.returncode == 0 and "inside" in done.stdout


@pytest.mark.parametrize("engine", ["cpython", "micropython"])
def test_provision_press_and_compare_with_pyotp(tmp_path, engine):
    inventory = tmp_path / "inventory.sqlite3"
    with _blank_fob(tmp_path, engine) as sim:
        serial = _provision(sim, inventory)
        seed = _export_seed(inventory, serial, tmp_path)
        assert "SEALED" in fob("info", "--port", sim.port).stdout
        sim.press()
        event = sim.next_event("press", shows="code", serial=serial)  # the fob may already show this code
        assert event["code"] == pyotp_totp_at(seed, event["time"])
        assert abs(event["time"] - time.time()) < 5


def test_sealing_shuts_the_raw_repl_and_wipe_opens_it(tmp_path):
    inventory = tmp_path / "inventory.sqlite3"
    with _blank_fob(tmp_path, "micropython") as sim:
        _provision(sim, inventory)
        assert not _raw_repl_opens(sim.port)
        fob("wipe", "--port", sim.port, "--yes")
        sim.next_event("state", state="BLANK")
        assert _raw_repl_opens(sim.port)
        # mpremote stopped the firmware, as on a board; after a reset it serves the protocol again.
        subprocess.run([*MPREMOTE, "connect", sim.port, "reset"], check=True, capture_output=True, timeout=30)
        assert "BLANK" in fob("info", "--port", sim.port).stdout
