"""Raspberry Pi Pico / Pico W with an SSD1306 OLED and a DS3231 RTC on I2C0, one button to ground.

The Pico's own RTC restarts at every boot (MicroPython v1.27.0 ports/rp2/main.c
main: aon_timer_start at 2021-01-01), so the DS3231 (with its coin cell) is the clock.

Sleep and wake, as MicroPython v1.27.0 does them (ports/rp2/modmachine.c
mp_machine_lightsleep): ``lightsleep()`` without a timeout is DORMANT and arms
no wake source on a plain Pico (only the Pico W's CYW43 host-wake pin), so a
button IRQ never wakes it; ``lightsleep(ms)`` wakes from the timer alarm only,
with the GPIO bank's clock gated, so an edge during the sleep is not seen.
The idle path therefore sleeps in short timed slices and looks at the
button's level between them; on battery so does the wait between redraws
while a code is shown.  See README.md for the wiring.
"""

import machine
from ds3231 import DS3231
from oledfob import OledFobBoard

SDA = 4
SCL = 5
BUTTON = 15
VBUS_SENSE = 24  # high while USB power is present (plain Pico)
VSYS_ADC = 29  # VSYS / 3 (plain Pico)
DISPLAY_HEIGHT = 32  # 64 for a 128x64 panel
DISPLAY_TIMEOUT_MS = 30000  # how long a code stays on screen after a press
CELL_EMPTY_MV = 3300  # a LiPo cell (the plain build); 2x AA lithium (the latch build): 2200
CELL_FULL_MV = 4150  # a LiPo cell; 2x AA lithium: 3400


class PicoBoard(OledFobBoard):
    name = "rp2-pico-ssd1306"

    def __init__(self):
        super().__init__(SDA, SCL, BUTTON, DISPLAY_HEIGHT)
        self.rtc = DS3231(self.i2c)
        try:  # the Pico W senses VBUS through its wireless chip; GP24 and GP29 belong to that chip there
            self.vbus = machine.Pin("WL_GPIO2", machine.Pin.IN)
            self.vsys = None
        except ValueError:
            self.vbus = machine.Pin(VBUS_SENSE, machine.Pin.IN)
            self.vsys = machine.ADC(VSYS_ADC)

    def time(self):
        try:
            return self.rtc.time()
        except OSError:  # no DS3231 on the bus
            return None

    def set_time(self, unix_seconds):
        self.rtc.set_time(unix_seconds)

    def aging(self):
        return self.rtc.aging()

    def set_aging(self, value):
        self.rtc.set_aging(value)

    def may_deep_sleep(self):
        return not self.vbus.value()  # on USB the host may talk to us at any time

    def deep_sleep(self):
        """Sleep until a press (or USB power); RAM and the app survive."""
        self.framebuffer.poweroff()
        if self.sleep_until_press(None):
            self._pressed.set()  # spent by new_press: the wait_button(None) that follows returns for it

    def battery(self):
        if self.vsys is None or self.vbus.value():
            return None  # Pico W, or VSYS is USB's 5 V rather than the cell
        millivolts = self.vsys.read_u16() * 3 * 3300 // 65535
        level = (millivolts - CELL_EMPTY_MV) * 100 // (CELL_FULL_MV - CELL_EMPTY_MV)
        return max(0, min(100, level))


def create():
    return PicoBoard()
