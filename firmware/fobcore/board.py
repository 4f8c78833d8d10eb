"""The board interface: everything fobcore needs from the hardware it runs on.

Each board (boards/<name>/board.py, the simulator, tests/fakeboard.py)
subclasses ``Board``.  fobcore calls nothing else, so the same token
rules, rendering and main loop run on a Pico, an ESP32-C3, the desktop
simulator and under CPython tests.  Times are always Unix seconds here;
a board whose port counts from 2000 converts with ``EPOCH_OFFSET``.
"""

import os
import time

# Seconds from 1970-01-01 to this port's epoch (0, or 946684800 on ports counting from 2000).
EPOCH_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0


class Board:
    """Base class of every board; methods without a body must be provided."""

    name = "unknown"

    # -- display: a framebuf.FrameBuffer-compatible MONO_VLSB buffer ------------
    width = 128
    height = 32
    framebuffer = None  # drawn into by fobcore.render; shown by show()

    def show(self):
        """Send the framebuffer to the panel."""
        raise NotImplementedError

    def display_power(self, on):
        """Switch the panel on or off (off: its controller sleeps, pixels kept).

        A board may run at a lower CPU clock while a code shows on battery (its wait_button knows
        when); it restores the clock here when the panel goes off, and when a host needs it."""
        raise NotImplementedError

    # -- clock ------------------------------------------------------------------
    def time(self):
        """The wall clock in Unix seconds, or None if it was never set or lost power."""
        raise NotImplementedError

    def set_time(self, unix_seconds):
        """Set the wall clock (and any battery-backed RTC) to ``unix_seconds``."""
        raise NotImplementedError

    def aging(self):
        """The clock's aging trim (a DS3231's aging offset, -128..127), or None if it has none."""
        return None

    def set_aging(self, value):
        """Write the aging trim; only called where aging() is not None."""
        raise NotImplementedError

    def time_ms(self):
        """The wall clock in Unix milliseconds where it has sub-second resolution, else None."""
        return None

    def ticks_ms(self):
        """A monotonic millisecond counter for timeouts (wraps like time.ticks_ms)."""
        return time.ticks_ms()

    def ticks_diff(self, a, b):
        """``a - b`` for two ticks_ms() values, wrap-around safe."""
        return time.ticks_diff(a, b)

    # -- button -----------------------------------------------------------------
    async def wait_button(self, timeout_ms):
        """Wait for a press; True if pressed, False after ``timeout_ms`` (None: forever).

        Must sleep (IRQ + asyncio flag), not poll the pin."""
        raise NotImplementedError

    def button_down(self):
        """True while the button is held (a long press shows the information screen)."""
        return False

    # -- serial stream (USB CDC on real boards, a pty in the simulator) ---------
    async def read_serial(self):
        """Wait until bytes arrive on the serial stream and return those available."""
        raise NotImplementedError

    def write_serial(self, data):
        """Write ``data`` (bytes) to the serial stream."""
        raise NotImplementedError

    def set_kbd_intr(self, enabled):
        """Allow (True) or forbid (False) Ctrl-C, and so the raw REPL, on the serial stream."""
        try:
            import micropython

            micropython.kbd_intr(3 if enabled else -1)
        except ImportError:  # CPython: there is no REPL to protect
            pass

    # -- storage ----------------------------------------------------------------
    def storage_dir(self):
        """The directory (on littlefs on a board) where the seed record lives."""
        return "/data"

    def free_bytes(self):
        """Free bytes in storage_dir()."""
        st = os.statvfs(self.storage_dir())
        return st[1] * st[4]  # f_frsize * f_bavail, on MicroPython and CPython alike

    # -- power ------------------------------------------------------------------
    def power_off(self):
        """Switch the board's own supply off (the power-latch build), when nothing needs it on.

        Returns only if the board stays powered: the plain build, or a USB host supplying it."""

    def may_deep_sleep(self):
        """True if deep_sleep() may be used now (e.g. no USB host is attached)."""
        return False

    def deep_sleep(self):
        """Power down until the button wakes the board (usually a reset); may return."""

    # -- identity ---------------------------------------------------------------
    def unique_id(self):
        """The chip's unique id as bytes (machine.unique_id())."""
        return b""

    def random_bytes(self, count):
        """``count`` (at most 32) bytes for a one-time challenge that never repeats (fobcore.nonce)."""
        from fobcore import nonce  # loaded at the first CHALLENGE only: a fob in a pocket never needs it

        return nonce.fresh(self, count)

    def battery(self):
        """Battery charge in percent, or None if the board cannot tell."""
        return None
