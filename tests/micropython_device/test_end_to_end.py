"""A blank fob flashed and provisioned by the real `fob` commands, on both engines of `fob sim`.

Under --engine micropython the board starts without firmware: `fob flash
--board sim` installs it through mpremote and mpy-cross, as onto hardware.
Sealing and wiping also on the unix port, as a board behind a pty.
"""

import csv
import subprocess
import sys
import time

import pytest
from flashimage import flash_unix_firmware
from unixdevice import UnixDevice

from fobcore import base32
from mpvm import make_image
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


def test_sealing_shuts_the_raw_repl_and_wipe_opens_it_on_the_unix_port(tmp_path):
    # The unix port as the board (tests/unixdevice.py) with its test board file (tests/firmware/unix/board.py:
    # the real USB serial driver on the pty); a sealed fob's kbd_intr(-1) leaves mpremote's Ctrl-C a byte.
    flash = tmp_path / "flash"
    flash_unix_firmware(flash)
    (tmp_path / "token").mkdir()
    make_image(tmp_path / "token" / "flash.img", [(flash, "/")])
    inventory = tmp_path / "inventory.sqlite3"
    with open(tmp_path / "frames.txt", "w") as frames, UnixDevice(tmp_path / "token", stderr=frames) as board:
        done = fob("provision", "--port", board.port, "--inventory", inventory)
        assert "provisioned and sealed" in done.stdout
        assert not _raw_repl_opens(board.port)
        fob("wipe", "--port", board.port, "--yes")
        assert _raw_repl_opens(board.port)
    # mpremote stopped the firmware; this port has no machine.reset, so a power cycle starts it again.
    with open(tmp_path / "frames.txt", "a") as frames, UnixDevice(tmp_path / "token", stderr=frames) as board:
        assert "BLANK" in fob("info", "--port", board.port).stdout
