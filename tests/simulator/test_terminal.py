"""The headless view: fits the terminal it is drawn in, and the Enter that presses is not echoed."""

import io
import os
import subprocess
import termios
import time

from fobsim import screen
from fobsim.terminal import TerminalView
from simproc import FOB


def _all_lit(width, height):
    return [[1] * width for _ in range(height)]


def test_an_80_by_24_terminal_gets_the_display_at_half_width():
    out = io.StringIO()
    view = TerminalView(out, ansi=False, columns=80)
    view.post_status("demo  ·  /dev/pts/12345  ·  SEALED  ·  2026-12-01 22:00:00 UTC and a long tail " * 2)
    view.post_frame(_all_lit(128, 32))
    last = out.getvalue().split("\n")[-20:-1]  # the last drawing: border, 16 lines, border, status
    assert all(len(line) <= 80 for line in last) and len(last) <= 23
    assert last[1] == "|" + "█" * 64 + "|"


def test_a_wide_terminal_keeps_one_column_per_pixel():
    out = io.StringIO()
    TerminalView(out, ansi=False, columns=200).post_frame(_all_lit(128, 32))
    assert "|" + "█" * 128 + "|" in out.getvalue()


def test_quadrants_are_two_by_two_pixels():
    rows = [[1, 0, 0, 1], [0, 0, 1, 1]]
    assert screen.to_quadrants(rows) == "▘▟"


def test_enter_is_not_echoed_while_the_simulator_runs(tmp_path):
    master, slave = os.openpty()
    process = subprocess.Popen(
        [FOB, "sim", "--headless", "--dir", str(tmp_path / "fob")],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while termios.tcgetattr(master)[3] & termios.ECHO and time.monotonic() < deadline:
            time.sleep(0.05)  # the simulator is starting
        assert termios.tcgetattr(master)[3] & termios.ECHO == 0
        assert process.poll() is None
        process.terminate()
        process.wait(timeout=20)
        assert termios.tcgetattr(master)[3] & termios.ECHO  # given back as it was
    finally:
        process.kill()
        os.close(master)
        os.close(slave)
