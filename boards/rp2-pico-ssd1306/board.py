"""Raspberry Pi Pico / Pico W with an SSD1306 OLED and a DS3231 RTC on I2C0, one button to ground.

The Pico's own RTC restarts at every hard boot, so the DS3231 (with its
coin cell) is the clock.  See README.md for the wiring.
"""

import asyncio
import select
import sys

import machine
import ssd1306
from ds3231 import DS3231
from fobcore.board import Board

SDA = 4
SCL = 5
BUTTON = 15
VBUS_SENSE = 24  # high while USB power is present (plain Pico)
VSYS_ADC = 29  # VSYS / 3 (plain Pico)
DISPLAY_HEIGHT = 32  # 64 for a 128x64 panel
DISPLAY_TIMEOUT_MS = 30000  # how long a code stays on screen after a press
DEBOUNCE_MS = 150
LIPO_EMPTY_MV = 3300
LIPO_FULL_MV = 4150


class PicoBoard(Board):
    name = "rp2-pico-ssd1306"

    def __init__(self):
        self.i2c = machine.I2C(0, sda=machine.Pin(SDA), scl=machine.Pin(SCL), freq=400000)
        self.width = 128
        self.height = DISPLAY_HEIGHT
        self.framebuffer = ssd1306.SSD1306_I2C(self.width, self.height, self.i2c)  # itself a FrameBuffer
        self.rtc = DS3231(self.i2c)
        try:  # the Pico W senses VBUS through its wireless chip; GP24 and GP29 belong to that chip there
            self.vbus = machine.Pin("WL_GPIO2", machine.Pin.IN)
            self.vsys = None
        except ValueError:
            self.vbus = machine.Pin(VBUS_SENSE, machine.Pin.IN)
            self.vsys = machine.ADC(VSYS_ADC)
        self._pressed = asyncio.ThreadSafeFlag()
        self._last_press = 0
        self.button = machine.Pin(BUTTON, machine.Pin.IN, machine.Pin.PULL_UP)
        self.button.irq(self._on_button, machine.Pin.IRQ_FALLING)
        self._stdin = sys.stdin.buffer
        self._reader = asyncio.StreamReader(self._stdin)
        self._poll = select.poll()
        self._poll.register(self._stdin, select.POLLIN)
        try:
            import os

            os.mkdir(self.storage_dir())
        except OSError:
            pass  # already there

    def _on_button(self, pin):
        now = self.ticks_ms()
        if self.ticks_diff(now, self._last_press) > DEBOUNCE_MS:
            self._last_press = now
            self._pressed.set()

    def show(self):
        self.framebuffer.show()

    def display_power(self, on):
        if on:
            self.framebuffer.poweron()
        else:
            self.framebuffer.poweroff()

    def time(self):
        try:
            return self.rtc.time()
        except OSError:  # no DS3231 on the bus
            return None

    def set_time(self, unix_seconds):
        self.rtc.set_time(unix_seconds)

    async def wait_button(self, timeout_ms):
        if timeout_ms is None:
            await self._pressed.wait()
            return True
        try:
            await asyncio.wait_for_ms(self._pressed.wait(), timeout_ms)
            return True
        except asyncio.TimeoutError:
            return False

    async def read_serial(self):
        # stdin.read(n) would block until n bytes: take one, then whatever else is waiting.
        data = await self._reader.read(1)
        while len(data) < 64 and self._poll.poll(0):
            data += self._stdin.read(1)
        return data

    def write_serial(self, data):
        sys.stdout.buffer.write(data)

    def may_deep_sleep(self):
        return not self.vbus.value()  # on USB the host may talk to us at any time

    def deep_sleep(self):
        # Clocks stop until the button's edge interrupt; RAM and the app survive.
        self.framebuffer.poweroff()
        machine.lightsleep()

    def unique_id(self):
        return machine.unique_id()

    def battery(self):
        if self.vsys is None or self.vbus.value():
            return None  # Pico W, or VSYS is USB's 5 V rather than the cell
        millivolts = self.vsys.read_u16() * 3 * 3300 // 65535
        level = (millivolts - LIPO_EMPTY_MV) * 100 // (LIPO_FULL_MV - LIPO_EMPTY_MV)
        return max(0, min(100, level))


def create():
    return PicoBoard()
