"""A Token on a fake board served behind a real pty, as a fob on USB serial is."""

import os
import time

import pytest
from fakeboard import FakeBoard

from fobcore.protocol import DeviceHandler
from fobcore.token import Token
from fobhost.inventory import Inventory
from fobhost.ptydevice import PtyDevice


class RunningClockBoard(FakeBoard):
    """The fake board with a clock that runs in real time once set, like an RTC, and tells milliseconds.

    ``set_calls`` holds (value, host time) of every set_time(): what the fob was told, and when.
    """

    def __init__(self, storage, unix_time=None):
        super().__init__(storage, None)
        self._set_at = None
        self.set_calls = []
        if unix_time is not None:
            self.set_time(unix_time)

    def set_time(self, unix_seconds):
        self.set_calls.append((unix_seconds, time.time()))
        self.unix_time = unix_seconds
        self._set_at = time.monotonic()

    def time_ms(self):
        if self.unix_time is None:
            return None
        return int((self.unix_time + time.monotonic() - self._set_at) * 1000)

    def time(self):
        ms = self.time_ms()
        return None if ms is None else ms // 1000


class Fob:
    """One served fob: its board, token, handler and pty."""

    def __init__(self, storage, handler_factory=DeviceHandler):
        self.board = RunningClockBoard(storage)
        self.token = Token(self.board)
        self.handler = handler_factory(self.token)
        self.device = PtyDevice(self.handler)
        self.port = self.device.port

    def files(self):
        """Every stored byte, to prove that something changed nothing."""
        root = self.board.storage_dir()
        return {name: open(os.path.join(root, name), "rb").read() for name in sorted(os.listdir(root))}


@pytest.fixture
def make_fob(tmp_path):
    """Serve new fobs (each with its own flash directory); all are unplugged at the end."""
    served = []

    def make():
        served.append(Fob(tmp_path / ("flash%d" % len(served))))
        return served[-1]

    yield make
    for each in served:
        each.device.close()
        assert each.device.error is None


@pytest.fixture
def fob(make_fob):
    return make_fob()


@pytest.fixture
def inventory_path(tmp_path):
    return tmp_path / "inventory.sqlite3"


@pytest.fixture
def inventory(inventory_path):
    with Inventory(inventory_path) as opened:
        yield opened
