"""The ``machine`` (and ``esp32``) modules of MicroPython 1.27's rp2 and esp32 ports, over a World.

Only what the board files touch, each behaviour as the port's source has it (v1.27.0):

- rp2 ``lightsleep()`` without a timeout is DORMANT (xosc_dormant) and only the Pico W's
  CYW43 host-wake pin is armed as a wake source; with a timeout only the timer alarm
  wakes it and the GPIO bank's clock is gated (sleep_en0 = 0, sleep_en1 = the timer),
  so button edges during the sleep are not seen (ports/rp2/modmachine.c
  mp_machine_lightsleep).  ``deepsleep`` is that lightsleep, then a reset
  (mp_machine_deepsleep).  The RTC restarts at 2021-01-01 at every boot (ports/rp2/main.c
  main, aon_timer_start).  An I2C NACK is EIO (ports/rp2/machine_i2c.c).
- esp32 ``deepsleep`` wakes from the timer and the pins of ``esp32.wake_on_gpio`` at their
  level (ports/esp32/modmachine.c machine_sleep_helper, esp_deep_sleep_enable_gpio_wakeup);
  with no source armed it sleeps for good.  Waking is a reset with DEEPSLEEP_RESET
  (mp_machine_reset_cause).  ``RTC.memory`` is RTC_NOINIT_ATTR: kept through deep sleep and
  resets, garbage after power-on (ports/esp32/machine_rtc.c).  The internal RTC keeps
  counting through deep sleep on the RC slow clock, with its drift.  A pin's pull keeps
  through deep sleep only when the pad is held (``Pin(..., hold=True)``,
  ports/esp32/machine_pin.c machine_pin_obj_init_helper, gpio_hold_en); an unheld wake pin
  floats and the model reads it low.  On the C3 GPIO0-5 are held in the RTC domain (ESP-IDF
  hal/esp32c3/include/hal/gpio_ll.h gpio_ll_hold_en: RTC_CNTL_PAD_HOLD_REG), which stays powered
  in deep sleep, so no esp32.gpio_deep_sleep_hold is needed (it is for the digital pads, and
  modesp32.c builds it only under SOC_GPIO_SUPPORT_HOLD_IO_IN_DSLP, which the C3 does not set).
  An I2C NACK is ENODEV (ports/esp32/machine_i2c.c).
  ``lightsleep`` with ``wake_on_gpio`` pins calls ESP-IDF's gpio_wakeup_enable for each
  (machine_sleep_helper), which sets the pin's interrupt type to that level (ESP-IDF v5
  components/esp_driver_gpio/src/gpio.c gpio_wakeup_enable: gpio_hal_set_intr_type) and nothing
  sets it back: a ``Pin.irq`` on that pin is a level interrupt from then on, and while the pin
  is at the level it fires without end and no task runs.  (The model plays that out after a wake.)
"""

import calendar
import errno
import time as _host_time
import types

from fobsim.models import portmodules
from fobsim.models.devices import I2CBus
from fobsim.models.scheduler import Interrupt
from fobsim.models.world import Hang

PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5
_EPOCH_2000 = 946684800
_RP2_BOOT_TIME = 1609459200  # 2021-01-01, ports/rp2/main.c
_DEFAULT_HZ = {"rp2": 125_000_000, "esp32": 160_000_000}  # the clock each port boots at
_ESP32C3_FREQS = (20_000_000, 40_000_000, 80_000_000, 160_000_000)


class Reset(Interrupt):
    """The chip reset (machine.reset, a wake from deep sleep): RAM is gone, main.py runs again."""

    def __init__(self, cause):
        super().__init__(cause)
        self.cause = cause


class _PinState:
    def __init__(self):
        self.mode = None
        self.pull = None
        self.out = 0
        self.external = None  # what the outside drives: 0 (button pressed), 1, or None
        self.handler = None
        self.trigger = 0
        self.hold = False


class Machine:
    """One chip's peripherals and power state; ``module()`` is what ``import machine`` gives."""

    IN, OUT, PULL_UP, PULL_DOWN, IRQ_FALLING, IRQ_RISING = 0, 1, 1, 2, 4, 8
    LEVEL_LOW, LEVEL_HIGH = 16, 32  # esp32: what gpio_wakeup_enable leaves a pin's interrupt as

    def __init__(self, world, port, uid=b"\xe6\x61\x41\x04\x03\x45\x1f\x2c", pico_w=False, rc_drift=0.0):
        self.world = world
        self.port = port
        self.uid = uid
        self.pico_w = pico_w
        self.rc_drift = rc_drift  # esp32: the internal RTC's rate error (0.03 = 3 % fast)
        self.pins = {}
        self.bus = I2CBus(world, errno.EIO if port == "rp2" else errno.ENODEV)
        self.freq_hz = _DEFAULT_HZ[port]
        self.vsys_volts = 3.9
        self.wake_pins = ()
        self.wake_level = False
        self.sleeping = None  # None (running), "sleep" (no edges seen), "dormant", "deepsleep"
        self.rtc_memory = bytes(b"\xa5" * 8)  # garbage after power-on
        self._rtc_base = (0, 0.0)  # (seconds since the port's epoch, world time)
        self.cause = PWRON_RESET
        self.boot_time = 0.0
        self.kbd_intr = 3
        self.on_output = None  # called with (pin number, level) when the firmware drives a pin
        self.wake_seconds = 0.0  # running time to get the clocks back after each light sleep

    # -- the world's side ------------------------------------------------------
    def pin(self, number):
        return self.pins.setdefault(number, _PinState())

    def level(self, number):
        p = self.pin(number)
        if p.mode == self.OUT:
            return p.out
        if p.external is not None:
            return p.external
        if self.sleeping == "deepsleep" and not p.hold:
            return 0  # the pad lost its pull: floating, read low
        return 1 if p.pull == self.PULL_UP else 0

    def drive(self, number, level):
        """The outside world sets a pin (a button to ground: 0 pressed, None released)."""
        before = self.level(number)
        self.pin(number).external = level
        after = self.level(number)
        p = self.pin(number)
        edge = (self.IRQ_FALLING if before > after else self.IRQ_RISING) if before != after else 0
        if edge & p.trigger and p.handler is not None and self.sleeping is None:
            p.handler(self._pins_by_id[number])

    def wake_due(self):
        return any(self.level(n) == (1 if self.wake_level else 0) for n in self.wake_pins)

    def boot(self, cause):
        """A reset: RAM and pin setup gone; what the port keeps (RTC, RTC memory) stays.

        esp32's machine.reset is esp_restart, which on the C3 resets the CPU and a few peripherals
        (UART, timers, SPI, DMA) but not the GPIO block (ESP-IDF esp_system/port/soc/esp32c3/
        system_internal.c esp_restart_noos, esp_system_reset_modules_on_exit): pins keep their mode,
        pull and output level; only MicroPython's IRQ handlers go (machine_pin.c machine_pins_init).
        rp2's is watchdog_reboot, which resets all but the oscillators, the GPIO bank too (pico-sdk
        hardware_watchdog/watchdog.c _watchdog_enable: PSM WDSEL "everything apart from ROSC and XOSC")."""
        self.cause = cause
        for p in self.pins.values():
            external, hold = p.external, p.hold
            if self.port == "esp32" and cause == HARD_RESET:
                p.handler, p.trigger = None, 0
            elif not hold:
                p.__init__()
            p.external = external
        self.wake_pins = ()
        self.sleeping = None
        self.set_freq(_DEFAULT_HZ[self.port])  # a boot starts at the port's default clock
        self.boot_time = self.world.now
        if self.port == "rp2":
            self._rtc_base = (_RP2_BOOT_TIME, self.world.now)

    def power_on(self):
        """Power applied: everything restarts, the RTC and its memory too."""
        for p in self.pins.values():
            external = p.external
            p.__init__()
            p.external = external
        self.rtc_memory = bytes(b"\xa5" * 8)
        self._rtc_base = (0, self.world.now)
        self.boot(PWRON_RESET)

    # -- clocks ----------------------------------------------------------------
    def rtc_seconds(self):
        base, since = self._rtc_base
        rate = 1 + (self.rc_drift if self.port == "esp32" else 0)
        return base + (self.world.now - since) * rate

    def set_rtc(self, seconds):
        self._rtc_base = (seconds, self.world.now)

    def set_freq(self, hz):
        self.freq_hz = hz
        self.world.ledger.set_clock(hz < _DEFAULT_HZ[self.port])

    def epoch(self):
        return _EPOCH_2000 if self.port == "esp32" else 0

    # -- sleeping --------------------------------------------------------------
    def _sleep(self, state, seconds, stop):
        self.sleeping = state
        self.world.ledger.set("mcu", state)
        try:
            if seconds is None:
                self.world.advance_to(None, stop)
            else:
                self.world.advance(seconds, stop)
        finally:
            self.sleeping = None
            self.world.ledger.set("mcu", "run")
        self.world.advance(self.wake_seconds)

    def lightsleep(self, ms=None):
        if self.port == "rp2":
            if ms is None:
                if not self.pico_w:
                    self.world.stop(
                        Hang(
                            "rp2 lightsleep() without a timeout is DORMANT and a plain Pico arms no wake source "
                            "(ports/rp2/modmachine.c mp_machine_lightsleep)"
                        )
                    )
                self._sleep("dormant", None, lambda: False)
                return
            if ms <= 1:
                self.world.advance(ms / 1000)
                return
            self._sleep("sleep", ms / 1000, None)
            self.set_freq(_DEFAULT_HZ["rp2"])  # runtime_init_clocks_optional_usb: clk_sys at SYS_CLK_KHZ again
            return
        self._esp32_sleep("sleep", ms)  # ESP-IDF esp_sleep_start restores the CPU clock it had

    def deepsleep(self, ms=None):
        if self.port == "rp2":
            self.lightsleep(ms)
            self.world.stop(Reset(PWRON_RESET))  # mp_machine_deepsleep: lightsleep, then mp_machine_reset
        self._esp32_sleep("deepsleep", ms)
        self.world.stop(Reset(DEEPSLEEP_RESET))

    def _esp32_sleep(self, state, ms):
        if ms is None and not self.wake_pins:
            self.world.stop(
                Hang("esp32 sleep with no wake source armed (ports/esp32/modmachine.c machine_sleep_helper)")
            )
        if state == "sleep":
            for n in self.wake_pins:  # gpio_wakeup_enable: the pin's interrupt becomes a level one, for good
                self.pin(n).trigger = self.LEVEL_HIGH if self.wake_level else self.LEVEL_LOW
        self.sleeping = state
        if not self.wake_due():  # level-triggered: a pin already at its level wakes at once
            self._sleep(state, None if ms is None else ms / 1000, self.wake_due)
        self.sleeping = None
        self._level_storm()

    def _level_storm(self):
        """A level interrupt at its level fires again as soon as it returns (ESP-IDF gpio.c gpio_isr_loop
        clears the status bit, the level sets it again): no task runs until the level goes; then the
        handler MicroPython scheduled (ports/esp32/machine_pin.c machine_pin_isr_handler) runs once."""
        for n, p in self.pins.items():
            level = {self.LEVEL_LOW: 0, self.LEVEL_HIGH: 1}.get(p.trigger)
            if level is not None and p.handler is not None and self.level(n) == level:
                self.world.advance_to(None, lambda n=n, level=level: self.level(n) != level)
                p.handler(self._pins_by_id[n])

    # -- the module ------------------------------------------------------------
    def module(self):
        m = self
        m._pins_by_id = {}

        class Pin:
            IN, OUT, PULL_UP, PULL_DOWN = Machine.IN, Machine.OUT, Machine.PULL_UP, Machine.PULL_DOWN
            IRQ_FALLING, IRQ_RISING = Machine.IRQ_FALLING, Machine.IRQ_RISING

            def __init__(self, id, mode=-1, pull=-1, *, value=None, hold=None):
                if isinstance(id, str):
                    if not (m.pico_w and id == "WL_GPIO2"):
                        raise ValueError("unknown named pin")  # ports/rp2/machine_pin.c pin_find
                    id = 1000
                if hold is not None and m.port != "esp32":
                    raise TypeError("unexpected keyword argument 'hold'")
                self.id = id
                m._pins_by_id[id] = self
                self.init(mode, pull, value=value, hold=hold)

            def init(self, mode=-1, pull=-1, *, value=None, hold=None):
                p = m.pin(self.id)
                if hold is not None:
                    p.hold = False  # machine_pin_obj_init_helper: gpio_hold_dis, then apply
                if mode != -1:
                    p.mode = mode
                if pull != -1:
                    p.pull = pull
                if value is not None:
                    self.value(value)
                if hold:
                    p.hold = True

            def value(self, v=None):
                if v is None:
                    return m.level(self.id)
                m.pin(self.id).out = 1 if v else 0
                if m.on_output is not None:
                    m.on_output(self.id, m.pin(self.id).out)
                return None

            def __call__(self, v=None):
                return self.value(v)

            def on(self):
                self.value(1)

            def off(self):
                self.value(0)

            def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING):
                p = m.pin(self.id)
                p.handler, p.trigger = handler, trigger

        class I2C:
            def __init__(self, id, *, sda=None, scl=None, freq=400000):
                self.freq = freq

            def scan(self):
                return m.bus.scan()

            def writeto(self, addr, buf, stop=True):
                m.bus.write(addr, buf, self.freq)
                return 1

            def writevto(self, addr, vector, stop=True):
                m.bus.write(addr, b"".join(bytes(b) for b in vector), self.freq)
                return len(vector)

            def readfrom(self, addr, n, stop=True):
                return m.bus.read(addr, n, self.freq)

            def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
                m.bus.write(addr, bytes((memaddr,)) + bytes(buf), self.freq)

            def readfrom_mem(self, addr, memaddr, n, *, addrsize=8):
                m.bus.write(addr, bytes((memaddr,)), self.freq)
                return m.bus.read(addr, n, self.freq)

        class ADC:
            def __init__(self, id):
                self.id = id

            def read_u16(self):
                if m.port == "rp2" and self.id == 29:  # VSYS through the Pico's 1:3 divider
                    return min(65535, int(m.vsys_volts / 3 / 3.3 * 65535))
                return 0

        class RTC:
            def datetime(self, dt=None):
                if dt is None:
                    t = _host_time.gmtime(int(m.rtc_seconds()) + m.epoch())
                    return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)
                y, mo, d, _wd, h, mi, s = dt[:7]
                m.set_rtc(calendar.timegm((y, mo, d, h, mi, s)) - m.epoch())
                return None

            def memory(self, data=None):
                if m.port != "esp32":
                    raise AttributeError("memory")
                if data is None:
                    return m.rtc_memory
                m.rtc_memory = bytes(data)
                return None

        def reset():
            m.world.stop(Reset(HARD_RESET))

        def freq(hz=None):
            if hz is None:
                return m.freq_hz
            if m.port == "esp32" and hz not in _ESP32C3_FREQS:
                raise ValueError("frequency must be 20MHz, 40MHz, 80Mhz or 160MHz")  # mp_machine_set_freq
            m.set_freq(hz)
            return None

        module = types.ModuleType("machine")
        vars(module).update(
            Pin=Pin,
            I2C=I2C,
            ADC=ADC,
            RTC=RTC,
            lightsleep=m.lightsleep,
            deepsleep=m.deepsleep,
            reset=reset,
            soft_reset=reset,
            reset_cause=lambda: m.cause,
            unique_id=lambda: m.uid,
            freq=freq,
            idle=lambda: None,
            PWRON_RESET=PWRON_RESET,
            HARD_RESET=HARD_RESET,
            WDT_RESET=WDT_RESET,
            DEEPSLEEP_RESET=DEEPSLEEP_RESET,
            SOFT_RESET=SOFT_RESET,
        )
        return module

    def esp32_module(self):
        return portmodules.esp32_module(self)

    def time_module(self):
        return portmodules.time_module(self)
