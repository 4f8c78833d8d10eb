"""The simulator's virtual board: the board interface over a virtual clock, flash directory, pty and screen.

Simulated time may run faster than the host's (``--speed``): the fob's
millisecond ticks and every wait scale with it, so a 30-second display
timeout lasts 30 fob seconds.
"""

import asyncio
import hashlib
import time

from fobcore.board import Board
from fobcore.monofb import FrameBuffer
from fobsim import screen


class VirtualBoard(Board):
    name = "sim"

    def __init__(self, flash_dir, clock, port, on_frame, token_name, on_clock_set=None, width=128, height=32):
        self.width = width
        self.height = height
        self.framebuffer = FrameBuffer(bytearray(width * height // 8), width, height)
        self.display_on = False
        self.clock = clock
        self.port = port
        self._flash_dir = str(flash_dir)
        self._on_frame = on_frame
        self._on_clock_set = on_clock_set
        self._token_name = token_name
        self._pressed = None
        self._held_until = 0  # ticks_ms until which the button is held down
        self._presses = 0
        self.last_time = None  # the last reading of time(): what the firmware's latest code was computed for

    # display
    def pixel_rows(self):
        """What the panel shows now: the framebuffer, or black while it is off."""
        if not self.display_on:
            return [[0] * self.width for _ in range(self.height)]
        return screen.pixel_rows(self.framebuffer.buf, self.width, self.height)

    def show(self):
        self._on_frame(self.pixel_rows())

    def display_power(self, on):
        self.display_on = on
        if not on:
            self._on_frame(self.pixel_rows())

    # clock
    def time(self):
        now = self.clock.now()
        self.last_time = None if now is None else int(now // 1)
        return self.last_time

    def time_ms(self):
        now = self.clock.now()
        return None if now is None else int(now * 1000)

    def set_time(self, unix_seconds):
        self.clock.set(unix_seconds)
        if self._on_clock_set:
            self._on_clock_set()

    def ticks_ms(self):
        return int(time.monotonic() * 1000 * self.clock.speed)

    def ticks_diff(self, a, b):
        return a - b

    # button
    def press(self, hold_ms=0):
        """A button press (from the window, a key or standard input), held ``hold_ms`` of fob time;
        call in the board's event loop."""
        self._held_until = self.ticks_ms() + hold_ms
        self._presses += 1
        if self._pressed is not None:
            self._pressed.set()

    def button_down(self):
        return self.ticks_diff(self._held_until, self.ticks_ms()) > 0

    async def wait_button(self, timeout_ms):
        if self._pressed is None:
            self._pressed = asyncio.Event()
        if not self._presses:
            timeout = None if timeout_ms is None else timeout_ms / 1000 / self.clock.speed
            try:
                await asyncio.wait_for(self._pressed.wait(), timeout)
            except TimeoutError:
                pass
        self._pressed.clear()
        if self._presses:
            self._presses -= 1
            return True
        return False

    # serial
    async def read_serial(self):
        return await self.port.read()

    def write_serial(self, data):
        self.port.write(data)

    # storage and identity
    def storage_dir(self):
        return self._flash_dir

    def unique_id(self):
        return hashlib.sha256(self._token_name.encode()).digest()[:8]
