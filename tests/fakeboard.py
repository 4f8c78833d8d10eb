"""A real board for CPython tests: a settable clock, storage in a directory,
a MONO_VLSB display buffer, button presses and serial as byte queues.

Time is virtual: nothing sleeps.  ``advance(seconds)`` moves the wall
clock and the millisecond ticks together, and a wait_button() timeout
elapses at once in virtual time (after letting other tasks run), so
tests of display timeouts and step boundaries are exact and fast.
"""

import asyncio
import os
from pathlib import Path

from fobcore.board import Board
from fobcore.monofb import FrameBuffer


class FakeBoard(Board):
    name = "fake"

    def __init__(self, storage, unix_time=None, width=128, height=32):
        self.storage = str(storage)
        os.makedirs(self.storage, exist_ok=True)
        self.width = width
        self.height = height
        self.framebuffer = FrameBuffer(bytearray(width * height // 8), width, height)
        self.unix_time = unix_time  # None: the clock lost power
        self.ticks = 0
        self.display_on = False
        self.frames = []  # bytes of every frame shown, in order
        self.kbd_intr_enabled = True
        self.deep_sleeps = 0
        self.power_offs = 0
        self.held = False  # the button is being held down
        self.battery_level = None
        self.allow_deep_sleep = False
        self.serial_out = bytearray()
        self._serial_in = None
        self._presses = 0
        self._pressed = None

    # clock
    def time(self):
        return None if self.unix_time is None else int(self.unix_time)

    def set_time(self, unix_seconds):
        self.unix_time = unix_seconds

    def ticks_ms(self):
        return self.ticks

    def ticks_diff(self, a, b):
        return a - b

    def advance(self, seconds):
        """Let ``seconds`` (may be fractional) of virtual time pass."""
        self.ticks += round(seconds * 1000)
        if self.unix_time is not None:
            self.unix_time += seconds

    # display
    def show(self):
        self.frames.append(bytes(self.framebuffer.buf))

    def display_power(self, on):
        self.display_on = on

    def pixels(self):
        """The last shown frame as rows of '#' and '.', for readable assertions."""
        frame = self.frames[-1]
        return [
            "".join("#" if frame[(y >> 3) * self.width + x] >> (y & 7) & 1 else "." for x in range(self.width))
            for y in range(self.height)
        ]

    # button
    def press(self):
        self._presses += 1
        if self._pressed is not None:
            self._pressed.set()

    async def wait_button(self, timeout_ms):
        if self._pressed is None:
            self._pressed = asyncio.Event()
        await asyncio.sleep(0)  # let the other tasks run first
        if not self._presses and timeout_ms is None:
            await self._pressed.wait()
        self._pressed.clear()
        if self._presses:
            self._presses -= 1
            return True
        self.advance(timeout_ms / 1000)
        return False

    # serial
    def _queue(self):
        if self._serial_in is None:
            self._serial_in = asyncio.Queue()
        return self._serial_in

    def send(self, data):
        """Bytes arriving from the host."""
        self._queue().put_nowait(bytes(data))

    async def read_serial(self):
        return await self._queue().get()

    def write_serial(self, data):
        self.serial_out += data

    def set_kbd_intr(self, enabled):
        self.kbd_intr_enabled = enabled

    # storage and power
    def storage_dir(self):
        return self.storage

    def storage_path(self, name):
        return Path(self.storage) / name

    def button_down(self):
        return self.held

    def battery(self):
        return self.battery_level

    def power_off(self):
        self.power_offs += 1

    def may_deep_sleep(self):
        return self.allow_deep_sleep

    def deep_sleep(self):
        self.deep_sleeps += 1

    def unique_id(self):
        return b"\xfa\x4e\x00\x01"
