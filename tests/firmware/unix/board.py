"""A board for the real main.py on the MicroPython unix port (installed as /lib/board.py).

The VM board's display and files (scriptboard.py), the real USB serial driver
(boards/drivers/usbserial.py) on the port's stdin and stdout, the host's
clock, and a button nobody presses.  Each frame shown is written to stderr
as a line "FRAME <unix time> <hex>", for the host to compare with CPython's rendering.
"""

import asyncio
import sys
import time

from scriptboard import ScriptBoard
from usbserial import UsbSerial

from fobcore.board import Board

DISPLAY_TIMEOUT_MS = 30000


class UnixBoard(ScriptBoard):
    name = "unix"

    def __init__(self):
        super().__init__()
        self.serial = UsbSerial()

    def show(self):
        sys.stderr.write("FRAME %d %s\n" % (time.time(), self.buffer.hex()))

    def time(self):
        return int(time.time())

    def set_time(self, unix_seconds):
        pass  # the host's clock

    def ticks_ms(self):
        return time.ticks_ms()

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)

    async def wait_button(self, timeout_ms):
        if timeout_ms is None:
            while True:
                await asyncio.sleep(3600)
        await asyncio.sleep_ms(timeout_ms)
        return False

    async def read_serial(self):
        return await self.serial.read()

    def write_serial(self, data):
        self.serial.write(data)

    set_kbd_intr = Board.set_kbd_intr


def create():
    return UnixBoard()
