"""The virtual MicroPython board: `fob flash --board sim` and `fob provision` against it, the VM's heap and CPU."""

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import _proc
from fobsim.micropython_engine import MicroPythonDevice

FOB = str(Path(sys.executable).with_name("fob"))
RUNS = 3
IDLE_SECONDS = 3.0
DISPLAY_TIMEOUT_MS = 5000  # shorter than a fob's, to measure the display-off idle soon


def _timed(*args):
    started = time.monotonic()
    done = subprocess.run([FOB, *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError("fob %s failed: %s" % (args[0], done.stderr.strip()))
    return time.monotonic() - started


def _idle_cpu_percent(board):
    pid = board.pid
    before, started = _proc.cpu_seconds(pid), time.monotonic()
    time.sleep(IDLE_SECONDS)
    return 100 * (_proc.cpu_seconds(pid) - before) / (time.monotonic() - started)


def _settle(board, boots):
    """Wait for the reset after flashing, and for main.py to reach its first await."""
    board.wait_booted(boots, timeout=60, kind="power")
    board.heap()  # answered only once the VM's event loop is free


def main():
    display_off = threading.Event()

    def watch(event):
        if event["event"] == "power":
            (display_off.clear if event["on"] else display_off.set)()

    with tempfile.TemporaryDirectory() as directory:
        inventory = Path(directory) / "inventory.sqlite3"
        with MicroPythonDevice(
            Path(directory) / "token", on_event=watch, display_timeout_ms=DISPLAY_TIMEOUT_MS
        ) as board:
            flash = []
            for _ in range(RUNS):
                boots = board.boots
                flash.append(_timed("flash", "--board", "sim", "--port", board.port))
                _settle(board, boots)
            idle_blank = board.heap()
            provision = []
            for _ in range(RUNS):
                provision.append(_timed("provision", "--port", board.port, "--inventory", str(inventory)))
                sealed = board.heap()
                _timed("wipe", "--port", board.port, "--yes")
            _timed("provision", "--port", board.port, "--inventory", str(inventory))
            board.press()
            time.sleep(0.5)  # the code is drawn
            showing = board.heap()
            cpu_on = _idle_cpu_percent(board)
            if not display_off.wait(timeout=2 * DISPLAY_TIMEOUT_MS / 1000 + IDLE_SECONDS):
                raise RuntimeError("the VM board's display did not turn off")
            cpu_off = _idle_cpu_percent(board)
    print("fob flash --board sim (VM board): median %.2f s of %s" % (statistics.median(flash), _list(flash)))
    print("fob provision (VM board): median %.2f s of %s" % (statistics.median(provision), _list(provision)))
    for label, heap in (("blank, idle", idle_blank), ("sealed, idle", sealed), ("showing a code", showing)):
        print(
            "VM heap while the firmware runs (%s): %d bytes in use, %d live after gc.collect()"
            % (label, heap["alloc"], heap["live"])
        )
    print("VM board CPU while showing a code: %.1f%% of one core" % cpu_on)
    print("VM board CPU with the display off: %.1f%% of one core" % cpu_off)


def _list(seconds):
    return ", ".join("%.2f" % s for s in seconds)
