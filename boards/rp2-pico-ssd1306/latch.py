"""Imported first by main.py (right after Ctrl-C is off): hold the power latch before the button is let go.

In the power-latch build (docs/hardware.md) the button powers the board for about a second;
driving POWER_LATCH high keeps it powered until the firmware releases it (Board.power_off).
A reset lets go of it like every pin (machine.reset is watchdog_reboot, which resets the GPIO bank too,
ports/rp2/modmachine.c mp_machine_reset): the gate RC then keeps the supply on for about a second, longer than
the boot takes to get here again (docs/hardware.md).
In the plain build nothing is wired to this pin and holding it high does nothing.  Not boot.py:
an exception there would skip main.py and open the REPL (see firmware/main.py).
"""

import machine

POWER_LATCH = 14  # GP14 (pin 19): the latch's hold line; None if the pin is needed for something else

if POWER_LATCH is not None:
    machine.Pin(POWER_LATCH, machine.Pin.OUT, value=1)
