"""What every real fob board shares: an SSD1306 on I2C, one button to ground, USB serial on stdin/stdout.

A board subclasses ``OledFobBoard`` with its pins and adds what differs:
its clock, its power sensing and its way of sleeping.
"""

import asyncio
import os

import machine
import ssd1306
from fobcore.board import Board
from usbserial import UsbSerial

try:
    from latch import POWER_LATCH  # main.py imported it first, holding the latch
except ImportError:  # a board installed without one: no latch
    POWER_LATCH = None

DEBOUNCE_MS = 150


class OledFobBoard(Board):
    def __init__(self, sda, scl, button, display_height):
        self.i2c = machine.I2C(0, sda=machine.Pin(sda), scl=machine.Pin(scl), freq=400000)
        self.width = 128
        self.height = display_height
        self.framebuffer = ssd1306.SSD1306_I2C(self.width, self.height, self.i2c)  # itself a FrameBuffer
        self._pressed = asyncio.ThreadSafeFlag()
        self._last_press = 0
        self.button = machine.Pin(button, machine.Pin.IN, machine.Pin.PULL_UP)
        self.button.irq(self._on_button, machine.Pin.IRQ_FALLING)
        self._down = self.button_down()  # a press held through the boot is that boot's press
        self.serial = UsbSerial()
        try:
            os.mkdir(self.storage_dir())
        except OSError:
            pass  # already there

    def _on_button(self, pin):
        now = self.ticks_ms()
        if self.ticks_diff(now, self._last_press) > DEBOUNCE_MS:
            self._last_press = now
            self._pressed.set()

    def power_off(self):
        """Release the power latch on battery; in the plain build (nothing on that pin) this returns."""
        if POWER_LATCH is None or not self.may_deep_sleep():
            return  # on USB: stay on for the host, which may talk to us at any time
        self.framebuffer.poweroff()
        machine.Pin(POWER_LATCH, machine.Pin.OUT, value=0)

    def button_down(self):
        return not self.button.value()

    def new_press(self):
        """True if the button is down now and was up at the last look: one press, however long it is held."""
        down = self.button_down()
        new = down and not self._down
        self._down = down
        return new

    def show(self):
        self.framebuffer.show()

    def display_power(self, on):
        if on:
            self.framebuffer.poweron()
        else:
            self.framebuffer.poweroff()

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
        return await self.serial.read()

    def write_serial(self, data):
        self.serial.write(data)

    def unique_id(self):
        return machine.unique_id()
