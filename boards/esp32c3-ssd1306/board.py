"""ESP32-C3 with an SSD1306 OLED on I2C, its internal RTC (kept in deep sleep), an optional DS3231.

Between presses the chip deep-sleeps (about 5 uA for the chip itself)
and the button wakes it through a reset; the internal RTC keeps counting.
A marker in RTC memory tells a clock that ran through deep sleep from one
that restarted after a power loss.  See README.md for the wiring.
"""

import time

import esp32
import machine
from ds3231 import DS3231
from fobcore.board import EPOCH_OFFSET
from oledfob import OledFobBoard

SDA = 5
SCL = 6
BUTTON = 3  # one of GPIO0-5: only these wake the C3 from deep sleep
VBUS_SENSE = 4  # USB 5 V through a 100k/100k divider; None if not wired
DISPLAY_HEIGHT = 32  # 64 for a 128x64 panel
DISPLAY_TIMEOUT_MS = 30000  # how long a code stays on screen after a press
_CLOCK_SET = b"fobclock"  # in RTC memory: survives deep sleep, not power loss


class Esp32C3Board(OledFobBoard):
    name = "esp32c3-ssd1306"

    def __init__(self):
        super().__init__(SDA, SCL, BUTTON, DISPLAY_HEIGHT)
        self.rtc = machine.RTC()
        ds3231 = DS3231(self.i2c)
        self.ds3231 = ds3231 if ds3231.present() else None
        self.vbus = machine.Pin(VBUS_SENSE, machine.Pin.IN) if VBUS_SENSE is not None else None
        if self.rtc.memory() != _CLOCK_SET and self.ds3231 is not None:
            self._restore_from_ds3231()

    def _restore_from_ds3231(self):
        """After a power loss the internal RTC restarted; the DS3231 did not."""
        unix = self.ds3231.time()
        if unix is not None:
            self._set_internal(unix)

    def _set_internal(self, unix_seconds):
        t = time.gmtime(unix_seconds - EPOCH_OFFSET)
        self.rtc.datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))
        self.rtc.memory(_CLOCK_SET)

    def time(self):
        if self.rtc.memory() != _CLOCK_SET:
            return None
        return time.time() + EPOCH_OFFSET

    def set_time(self, unix_seconds):
        self._set_internal(unix_seconds)
        if self.ds3231 is not None:
            self.ds3231.set_time(unix_seconds)

    def may_deep_sleep(self):
        # Deep sleep drops USB: only on battery (or when USB sensing is not wired).  It also needs
        # esp32.wake_on_gpio (MicroPython 1.28 on): the C3 has no EXT0/EXT1 wake, and before that
        # release nothing could wake it by its button.  Without it the fob idles awake instead.
        if not hasattr(esp32, "wake_on_gpio"):
            return False
        return self.vbus is None or not self.vbus.value()

    def deep_sleep(self):
        self.framebuffer.poweroff()
        esp32.wake_on_gpio((self.button,), esp32.WAKEUP_ALL_LOW)
        machine.deepsleep()  # wakes through a reset: main.py starts again with a press


def create():
    return Esp32C3Board()
