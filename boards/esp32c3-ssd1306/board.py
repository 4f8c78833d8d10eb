"""ESP32-C3 with an SSD1306 OLED on I2C, an optional DS3231 (recommended), its internal RTC as the fallback.

Between presses the chip deep-sleeps (about 5 uA for the chip itself) and the
button wakes it through a reset, as MicroPython v1.27.0 provides:
``esp32.wake_on_gpio`` (ports/esp32/modesp32.c esp32_wake_on_gpio; the C3 has no
wake_on_ext0/ext1, SOC_PM_SUPPORT_EXT*_WAKEUP are off) arms the pin for
``machine.deepsleep`` (ports/esp32/modmachine.c machine_sleep_helper,
esp_deep_sleep_enable_gpio_wakeup), and the wake is a reset with
``machine.DEEPSLEEP_RESET``.  The button's pull-up is held through the sleep
(``Pin(..., hold=True)``, ports/esp32/machine_pin.c machine_pin_obj_init_helper:
gpio_hold_en) so the wake pin never floats, and released at boot.  GPIO3 needs
no esp32.gpio_deep_sleep_hold: GPIO0-5 are held in the RTC domain, powered in
deep sleep (ESP-IDF hal/esp32c3/include/hal/gpio_ll.h gpio_ll_hold_en sets
RTC_CNTL_PAD_HOLD_REG for them); that function is for the digital pads and is
not built for the C3 (modesp32.c: SOC_GPIO_SUPPORT_HOLD_IO_IN_DSLP is unset).

The clock: a fitted DS3231 is read on every wake (and every reading); the
internal RTC runs on the RC slow clock through deep sleep, drifting minutes a
day, so it is only the fallback for a fob without DS3231.  A marker in RTC
memory (RTC_NOINIT_ATTR, ports/esp32/machine_rtc.c: kept through deep sleep,
garbage after power-on) tells that fallback clock from one that restarted.
While a code is shown on battery, the wait between redraws is timed
``machine.lightsleep(ms)`` slices with the button's level looked at between
them (oledfob.sleep_until_press), not a light sleep the button wakes: for
that, machine_sleep_helper (MACHINE_WAKE_SLEEP) calls ESP-IDF's
gpio_wakeup_enable, which sets the pin's interrupt type to the level
(components/esp_driver_gpio/src/gpio.c, gpio_hal_set_intr_type) and nothing
sets it back, so the button's ``Pin.irq`` would be a low-level interrupt that
fires without end while the button is held: no task runs until it is let go
(no information screen, a press seen only at its release).
See README.md for the wiring.
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
    # While a code shows on battery, 80 MHz: the lowest clock at which APB, and so I2C, stays at 80 MHz;
    # ports/esp32/modmachine.c mp_machine_set_freq takes 20, 40, 80 or 160 MHz on the C3 (esp_pm_configure),
    # and light sleep keeps it (ESP-IDF sleep_modes.c esp_sleep_start restores the CPU clock it had).
    low_clock_hz = 80_000_000
    full_clock_hz = 160_000_000

    def __init__(self):
        super().__init__(SDA, SCL, BUTTON, DISPLAY_HEIGHT)
        machine.Pin(BUTTON, machine.Pin.IN, machine.Pin.PULL_UP, hold=False)  # held since the deep sleep
        self.rtc = machine.RTC()
        ds3231 = DS3231(self.i2c)
        self.ds3231 = ds3231 if ds3231.present() else None
        self.vbus = machine.Pin(VBUS_SENSE, machine.Pin.IN) if VBUS_SENSE is not None else None
        if self.ds3231 is not None:
            self.time()  # every wake: the DS3231 corrects the internal RTC's drift

    def _set_internal(self, unix_seconds):
        t = time.gmtime(unix_seconds - EPOCH_OFFSET)
        self.rtc.datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))
        self.rtc.memory(_CLOCK_SET)

    def time(self):
        if self.ds3231 is not None:
            try:
                unix = self.ds3231.time()
            except OSError:  # it was there at boot: a failing read is no time, not the drifting fallback
                return None
            if unix is not None:
                self._set_internal(unix)
            return unix
        if self.rtc.memory() != _CLOCK_SET:
            return None
        return time.time() + EPOCH_OFFSET

    def set_time(self, unix_seconds):
        self._set_internal(unix_seconds)
        if self.ds3231 is not None:
            self.ds3231.set_time(unix_seconds)

    def aging(self):
        """The DS3231's aging trim where one is fitted (fob sync --trim); None: the RC clock has none."""
        return None if self.ds3231 is None else self.ds3231.aging()

    def set_aging(self, value):
        self.ds3231.set_aging(value)

    def may_deep_sleep(self):
        # Deep sleep drops USB: only on battery (or when USB sensing is not wired).
        return self.vbus is None or not self.vbus.value()

    def deep_sleep(self):
        self.framebuffer.poweroff()
        held = machine.Pin(BUTTON, machine.Pin.IN, machine.Pin.PULL_UP, hold=True)
        # Level-triggered: a press during entry wakes at once.  A button stuck down (wait_release gave
        # up) would wake it at once for ever: then it wakes when the button is let go.
        esp32.wake_on_gpio((held,), esp32.WAKEUP_ANY_HIGH if self.stuck else esp32.WAKEUP_ALL_LOW)
        machine.deepsleep()  # wakes through a reset: main.py starts again with a press


def create():
    return Esp32C3Board()
