"""A blank virtual MicroPython board, flashed and provisioned by the real `fob` commands as hardware is."""

import csv
import subprocess
import sys
import time

from fobcore import base32
from oracles import pyotp_totp_at
from simproc import SimProcess, fob

ENGINE = ("--engine", "micropython")
MPREMOTE = (sys.executable, "-m", "mpremote")


def _export_seed(inventory, serial, tmp_path):
    out = tmp_path / ("%s.csv" % serial)
    fob("export", "--format", "csv", "--plaintext", "-o", out, "--inventory", inventory, serial)
    (row,) = csv.DictReader(out.open())
    return base32.decode(row["secret_base32"])


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


def test_flash_provision_press_seal_and_wipe(tmp_path):
    inventory = tmp_path / "inventory.sqlite3"
    with SimProcess(tmp_path / "fob", *ENGINE, "--blank", "--display-timeout", "2") as sim:
        done = fob("flash", "--board", "sim", "--port", sim.port)
        assert "flashed sim" in done.stdout
        sim.next_event("state", state="BLANK")
        done = fob("provision", "--port", sim.port, "--inventory", inventory)
        assert "provisioned and sealed" in done.stdout
        serial = sim.next_event("state", state="SEALED")["serial"]
        seed = _export_seed(inventory, serial, tmp_path)

        sim.press()
        event = sim.next_event("code", serial=serial)
        assert event["code"] == pyotp_totp_at(seed, event["time"])
        assert abs(event["time"] - time.time()) < 5

        assert not _raw_repl_opens(sim.port)

        fob("wipe", "--port", sim.port, "--yes")
        sim.next_event("state", state="BLANK")
        assert _raw_repl_opens(sim.port)
