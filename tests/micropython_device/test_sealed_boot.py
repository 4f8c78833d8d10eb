"""A sealed fob whose firmware fails to start resets, then halts on FAULT; it never opens the REPL.

Each failure a board can meet after power-on is injected into a flash laid
out by `fob flash`: a missing .mpy, MemoryError while importing, an
exception from the board driver, a KeyboardInterrupt that slipped in.  Such
a failure on a blank fob does open the REPL (a developer's board), which
shows the test can see a prompt when there is one.
"""

import time

import pytest
from flashimage import FAILURES, flash_firmware, inject, store_record

from fobcore import render
from fobcore.monofb import FrameBuffer
from fobsim.micropython_engine import MicroPythonDevice

HALTED = b"failed to start 3 times in a row; halted"


def _fault_screen():
    pixels = bytearray(128 * 32 // 8)
    render.draw_message(FrameBuffer(pixels, 128, 32), 128, 32, "FAULT", "RESTART")
    return pixels.hex()


def _prompt_after_enter(line, seconds=1):
    """Send CR LF as a person at a terminal would; return whether a prompt came back."""
    line.send(b"\r\n")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line.seen += line.serial.read(256)
        if b">>>" in line.seen:
            return True
    return False


@pytest.mark.parametrize("failure", FAILURES)
def test_a_sealed_fob_that_cannot_start_never_shows_a_prompt(tmp_path, failure, open_line):
    flash = tmp_path / "token" / "flash"
    flash_firmware(flash)
    record = store_record(flash, sealed=True)
    inject(flash, failure)
    frames = []
    with MicroPythonDevice(
        tmp_path / "token", on_event=lambda e: e["event"] == "frame" and frames.append(e["data"])
    ) as vm:
        line = open_line(vm.port)
        line.expect(HALTED, timeout=60)
        assert vm.boots == 3 and vm.last_boot == "power"  # two hard resets, then the halt
        if failure == "app.mpy missing":  # the board driver works: the display says FAULT
            assert frames[-1:] == [_fault_screen()]
        assert not _prompt_after_enter(line)
        assert b">>>" not in line.seen
    assert (flash / "data" / "seed.rec").read_bytes() == record
    assert not (flash / "failed_boots").exists()  # a power cycle gets three tries again


def test_the_same_failure_on_a_blank_fob_opens_the_repl(tmp_path, open_line):
    flash = tmp_path / "token" / "flash"
    flash_firmware(flash)
    inject(flash, "app.mpy missing")
    with MicroPythonDevice(tmp_path / "token") as vm:
        line = open_line(vm.port)
        assert _prompt_after_enter(line, seconds=15)
        assert vm.boots == 1
