"""What every real fob board shares: an SSD1306 on I2C, one button to ground, USB serial on stdin/stdout.

A board subclasses ``OledFobBoard`` with its pins and adds what differs:
its clock, its power sensing and its way of sleeping.
"""

import asyncio
import os
import time

import machine
import ssd1306
from fobcore.board import Board
from usbserial import UsbSerial

try:
    from latch import POWER_LATCH  # main.py imported it first, holding the latch
except ImportError:  # a board installed without one: no latch
    POWER_LATCH = None

DEBOUNCE_MS = 150
SLEEP_SLICE_MS = 40  # one timed lightsleep between looks at the button: shorter than any press
RELEASE_MS = 50  # up this long after a hold: let go, not a bounce
RELEASE_WAIT_MS = 10000  # a button held longer than this (stuck in a pocket) is slept on all the same


class OledFobBoard(Board):
    # The CPU clock while a code shows on battery (None: the board keeps its clock), and the one to go back to.
    low_clock_hz = None
    full_clock_hz = None

    def __init__(self, sda, scl, button, display_height):
        self.i2c = machine.I2C(0, sda=machine.Pin(sda), scl=machine.Pin(scl), freq=400000)
        self.width = 128
        self.height = display_height
        self.framebuffer = ssd1306.SSD1306_I2C(self.width, self.height, self.i2c)  # itself a FrameBuffer
        self._pressed = asyncio.ThreadSafeFlag()  # set by the IRQ; spent by wait_button or new_press
        self._unspent = False  # the IRQ saw a press that neither has spent yet
        self._last_press = 0
        self.stuck = False  # the button was still held when wait_release() gave up
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
            self._down = True  # seen here: the level look-ups of new_press() must not count it again
            self._unspent = True
            self._pressed.set()

    def power_off(self):
        """Release the power latch on battery, once the button is let go; in the plain build (nothing on
        that pin) this returns, and so it does while the button, which switches the supply too, is held."""
        if not self.may_deep_sleep():
            return  # on USB: stay on for the host, which may talk to us at any time
        self.wait_release()
        if POWER_LATCH is None:
            return
        self.framebuffer.poweroff()
        machine.Pin(POWER_LATCH, machine.Pin.OUT, value=0)

    def button_down(self):
        return not self.button.value()

    def wait_release(self):
        """Wait until the button has been up for RELEASE_MS (at most RELEASE_WAIT_MS); ``stuck`` says if it
        never was.  A deep sleep armed on the held button's level would wake at once, and a released latch
        would stay on through the button."""
        self.stuck = False
        if not self.button_down():
            return  # not held: the last press was a display time ago, no bounce to wait out
        start = up = time.ticks_ms()
        while time.ticks_diff(time.ticks_ms(), start) < RELEASE_WAIT_MS:
            if self.button_down():
                up = time.ticks_ms()
            elif time.ticks_diff(time.ticks_ms(), up) >= RELEASE_MS:
                return
            time.sleep_ms(RELEASE_MS // 5)
        self.stuck = True

    def new_press(self):
        """True once per press, however long it is held: the IRQ saw it while the CPU ran, or (its edge
        came during a sleep that gated the GPIO bank) the button is down now and was up at the last look.
        Either way the press is spent: wait_button will not return for it again."""
        now = self.ticks_ms()
        down = self.button_down()
        new = self._unspent or (down and not self._down and self.ticks_diff(now, self._last_press) > DEBOUNCE_MS)
        self._down = down
        if new:
            if not self._unspent:
                self._last_press = now
            self._unspent = False
            self._pressed.clear()
        return new

    def show(self):
        self.framebuffer.show()

    def display_power(self, on):
        if on:
            self.framebuffer.poweron()
        else:
            self.framebuffer.poweroff()
            self._clock(False)

    def _clock(self, low):
        """Lower the CPU clock (only while a code shows on battery, where nothing but redraws runs) or
        restore it (the display off, a host on USB, serial bytes to answer)."""
        if self.low_clock_hz is not None:
            hz = self.low_clock_hz if low else self.full_clock_hz
            if machine.freq() != hz:
                machine.freq(hz)

    def sleep_until_press(self, timeout_ms):
        """Timed lightsleep slices until a new press (True), USB power, or ``timeout_ms`` (None: none).

        Each board's lightsleep(ms) wakes from its timer, and the button's level is looked at between
        slices: rp2 gates the GPIO bank's clock so no edge is seen (ports/rp2/modmachine.c
        mp_machine_lightsleep); on esp32 a button armed to wake a light sleep would turn its IRQ into a
        level interrupt that fires without end while held (see esp32c3-ssd1306/board.py).  The deadline
        holds across the slices: rp2's ticks_ms is the hardware timer (ports/rp2/mphalport.h
        mp_hal_ticks_ms, to_ms_since_boot), the one block mp_machine_lightsleep leaves clocked
        (sleep_en1 = CLK_SYS_TIMER) since its alarm ends the sleep; esp32's is esp_timer
        (ports/esp32/mphalport.c mp_hal_ticks_ms), which ESP-IDF's light sleep code advances by the
        time slept (esp_timer_private_advance)."""
        end = None if timeout_ms is None else time.ticks_add(time.ticks_ms(), timeout_ms)
        while not self.new_press():
            if not self.may_deep_sleep():
                return False  # USB came: the host may talk to us at any time
            left = SLEEP_SLICE_MS if end is None else time.ticks_diff(end, time.ticks_ms())
            if left <= 0:
                return False
            machine.lightsleep(min(left, SLEEP_SLICE_MS))
        return True

    async def wait_button(self, timeout_ms):
        if timeout_ms is not None and self.may_deep_sleep():
            self._clock(True)
            await asyncio.sleep_ms(0)  # on battery nothing else runs: sleep until the next redraw or a press
            return self.sleep_until_press(timeout_ms)
        self._clock(False)
        try:
            if timeout_ms is None:
                await self._pressed.wait()
            else:
                await asyncio.wait_for_ms(self._pressed.wait(), timeout_ms)
        except asyncio.TimeoutError:
            return False
        self._unspent = False  # spent here: new_press() will not count it again
        return True

    async def read_serial(self):
        data = await self.serial.read()
        self._clock(False)
        return data

    def write_serial(self, data):
        self.serial.write(data)

    def unique_id(self):
        return machine.unique_id()
