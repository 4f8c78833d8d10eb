"""The ``esp32`` and ``time`` modules of the modelled ports, beside their ``machine`` (fobsim.models.ports).

Each takes the ports.Machine whose chip it belongs to.
"""

import calendar
import time as _host_time
import types


def esp32_module(m):
    """``esp32`` as on the ESP32-C3: wake_on_gpio, no wake_on_ext0/ext1 (SOC_PM_SUPPORT_EXT*_WAKEUP
    are off on the C3; ports/esp32/modesp32.c esp32_module_globals_table)."""

    def wake_on_gpio(pins=None, level=False):
        m.wake_pins = tuple(p.id for p in pins) if pins is not None else m.wake_pins
        m.wake_level = bool(level)

    module = types.ModuleType("esp32")
    module.wake_on_gpio = wake_on_gpio
    module.WAKEUP_ALL_LOW = False
    module.WAKEUP_ANY_HIGH = True
    return module


def time_module(m):
    """``time`` with the port's epoch (rp2: 1970, ports/rp2/mpconfigport.h MICROPY_EPOCH_IS_1970; esp32: 2000)."""
    epoch = m.epoch()

    def ticks_ms():  # counts through lightsleep(ms): rp2 mp_hal_ticks_ms is the timer, left clocked
        return int((m.world.now - m.boot_time) * 1000) & 0x3FFFFFFF

    def ticks_diff(a, b):
        return ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000

    def sleep_ms(ms):
        m.world.ledger.set("mcu", "idle")
        m.world.advance(ms / 1000)
        m.world.ledger.set("mcu", "run")

    def gmtime(secs=None):
        t = _host_time.gmtime((int(m.rtc_seconds()) if secs is None else secs) + epoch)
        return (t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7])

    def mktime(t):
        return calendar.timegm(tuple(t[:6])) - epoch

    module = types.ModuleType("time")
    vars(module).update(
        time=lambda: int(m.rtc_seconds()),
        ticks_ms=ticks_ms,
        ticks_diff=ticks_diff,
        ticks_add=lambda a, b: (a + b) & 0x3FFFFFFF,
        sleep_ms=sleep_ms,
        sleep=lambda s: sleep_ms(s * 1000),
        gmtime=gmtime,
        localtime=gmtime,
        mktime=mktime,
    )
    return module
