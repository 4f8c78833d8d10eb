"""Imported first by main.py (right after Ctrl-C is off): hold the power latch before the button is let go.

In the power-latch build (docs/hardware.md) the button powers the board for about a second;
driving POWER_LATCH high keeps it powered until the firmware releases it (Board.power_off).
A reset keeps it: machine.reset is esp_restart, which resets the CPU but not the GPIO block (ESP-IDF
esp_system/port/soc/esp32c3/system_internal.c esp_restart_noos), so the line stays high until this runs again.
In the plain build nothing is wired to this pin and holding it high does nothing.  Not boot.py:
an exception there would skip main.py and open the REPL (see firmware/main.py).
"""

import machine

POWER_LATCH = 7  # GPIO7: the latch's hold line; None if the pin is needed for something else

if POWER_LATCH is not None:
    machine.Pin(POWER_LATCH, machine.Pin.OUT, value=1)
