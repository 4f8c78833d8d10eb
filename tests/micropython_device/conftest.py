"""The virtual MicroPython board, and talking to it as a host talks to a USB board: mpremote and pyserial."""

import subprocess
import sys
import time

import pytest
import serial

from fobsim.micropython_engine import MicroPythonDevice

MPREMOTE = (sys.executable, "-m", "mpremote")


def mpremote(port, *args, timeout=60):
    """Run ``mpremote connect PORT ARGS...``; return the finished process (output as text)."""
    return subprocess.run(
        [*MPREMOTE, "connect", port, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


class Line:
    """A serial connection to the board that reads until an expected reply or a deadline."""

    def __init__(self, port):
        self.serial = serial.Serial(port, 115200, timeout=0.05)
        self.seen = b""

    def send(self, data):
        self.serial.write(data)
        self.serial.flush()

    def expect(self, marker, timeout=15):
        """Read until ``marker`` arrived; return everything read up to and including it."""
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError("no %r from the board within %s s; got %r" % (marker, timeout, self.seen[-300:]))
            self.seen += self.serial.read(256)
        head, _, self.seen = self.seen.partition(marker)
        return head + marker

    def friendly(self):
        """Stop whatever runs and wait at the friendly REPL's prompt."""
        self.send(b"\r\x03\x02print('rea' + 'dy')\r")
        self.expect(b"ready\n>>> ")

    def close(self):
        self.serial.close()


@pytest.fixture
def board(tmp_path):
    """A blank virtual MicroPython board, powered on."""
    with MicroPythonDevice(tmp_path / "token") as vm:
        yield vm


@pytest.fixture
def run_mpremote():
    return mpremote


@pytest.fixture
def open_line():
    """Open serial connections to a board's port; closed after the test."""
    lines = []

    def open_(port):
        lines.append(Line(port))
        return lines[-1]

    yield open_
    for line in lines:
        line.close()
