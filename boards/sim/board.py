"""The virtual MicroPython board's hardware: display, button, clock and serial across the VM's bridge.

Flashed by `fob flash --board sim` onto the virtual board that
`fob sim --engine micropython` runs (tools/mpvm/board.mjs).  There is no
hardware: ``simhost`` is a JavaScript module the VM registers, carrying
frames and display power out to the simulator's window or terminal, the
button and serial bytes in, and the battery-backed clock.  Bytes cross as
hex strings, the one binary-safe type both sides share.
"""

import asyncio
import os

import framebuf
import simhost
from fobcore.board import Board

DISPLAY_TIMEOUT_MS = simhost.display_timeout_ms()  # `fob sim --display-timeout`


class SimulatorBoard(Board):
    name = "sim"

    def __init__(self, width=128, height=32):
        self.width = width
        self.height = height
        self._pixels = bytearray(width * height // 8)
        self.framebuffer = framebuf.FrameBuffer(self._pixels, width, height, framebuf.MONO_VLSB)
        self._pressed = asyncio.Event()
        self._presses = 0
        self._received = asyncio.Event()
        simhost.on_button(self._on_button)
        simhost.on_serial(self._received.set)
        try:
            os.mkdir(self.storage_dir())
        except OSError:
            pass  # already there

    def _on_button(self):
        self._presses += 1
        self._pressed.set()

    def show(self):
        simhost.show(self._pixels.hex())

    def display_power(self, on):
        simhost.display_power(bool(on))

    def time(self):
        now = simhost.time()
        return None if now is None else int(now)

    def time_ms(self):
        now = simhost.time()
        return None if now is None else int(now * 1000)

    def set_time(self, unix_seconds):
        simhost.set_time(unix_seconds)

    def button_down(self):
        return simhost.button_down()

    async def wait_button(self, timeout_ms):
        if not self._presses:
            try:
                if timeout_ms is None:
                    await self._pressed.wait()
                else:
                    await asyncio.wait_for_ms(self._pressed.wait(), timeout_ms)
            except asyncio.TimeoutError:
                pass
        self._pressed.clear()
        if self._presses:
            self._presses -= 1
            return True
        return False

    async def read_serial(self):
        while True:
            data = simhost.serial_take()
            if data:
                return bytes.fromhex(data)
            self._received.clear()
            await self._received.wait()

    def write_serial(self, data):
        simhost.serial_write(bytes(data).hex())

    def unique_id(self):
        return bytes.fromhex(simhost.unique_id())

    def random_bytes(self, count):
        return bytes.fromhex(simhost.random_hex(count))  # the host's CSPRNG: the VM has no os.urandom


def create():
    return SimulatorBoard(height=simhost.height())
