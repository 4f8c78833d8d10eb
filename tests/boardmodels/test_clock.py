"""The CPU clock while a code shows: lowered on the C3 on battery, left alone on the Pico (docs/hardware.md)."""

import pytest

FULL_C3, LOW_C3 = 160_000_000, 80_000_000


def _clock_at(fob, times):
    seen = {}
    for t in times:
        fob.world.at(t, lambda t=t: seen.setdefault(t, fob.machine.freq_hz))
    return seen


def test_the_c3_on_battery_runs_at_80_mhz_while_a_code_shows_and_at_160_otherwise(make_fob):
    fob = make_fob("esp32c3-ssd1306", usb=True)
    fob.usb_at(1, False)  # on battery from 1 s: the boot's code is still shown
    seen = _clock_at(fob, (0.9, 5, 29.9))
    fob.press_at(10)  # a press while shown keeps it low
    fob.run_until(45)
    assert seen == {0.9: FULL_C3, 5: LOW_C3, 29.9: LOW_C3}
    totals = fob.world.ledger.totals()
    assert totals.get(("mcu", "run_low"), 0) > 0, "never ran at the lower clock"
    assert fob.machine.freq_hz == FULL_C3 or ("mcu", "deepsleep") in totals


def test_the_c3_is_at_full_clock_whenever_a_host_may_talk(make_fob):
    fob = make_fob("esp32c3-ssd1306", usb=True)
    seen = _clock_at(fob, (5, 20))
    fob.run_until(25)
    assert seen == {5: FULL_C3, 20: FULL_C3}
    assert ("mcu", "run_low") not in fob.world.ledger.totals()


def test_the_c3_lowers_its_clock_from_the_boot_on_battery_and_restores_it_when_usb_comes(make_fob):
    fob = make_fob("esp32c3-ssd1306")
    seen = _clock_at(fob, (5, 12))
    fob.usb_at(10, True)
    fob.run_until(13)
    assert seen == {5: LOW_C3, 12: FULL_C3}


def test_the_pico_keeps_its_clock(make_fob):
    fob = make_fob("rp2-pico-ssd1306")
    fob.run_until(20)
    assert fob.machine.freq_hz == 125_000_000
    assert ("mcu", "run_low") not in fob.world.ledger.totals()


def test_the_rp2_model_restores_the_default_clock_at_each_lightsleep_wake(make_fob):
    fob = make_fob("rp2-pico-ssd1306")
    machine = fob.machine.module()
    machine.freq(48_000_000)
    assert fob.machine.freq_hz == 48_000_000
    fob.world.end = 10
    machine.lightsleep(50)  # mp_machine_lightsleep: runtime_init_clocks_optional_usb, SYS_CLK_KHZ again
    assert fob.machine.freq_hz == 125_000_000


def test_the_esp32_model_refuses_a_clock_the_port_refuses(make_fob):
    machine = make_fob("esp32c3-ssd1306").machine.module()
    with pytest.raises(ValueError):
        machine.freq(100_000_000)  # mp_machine_set_freq: 20, 40, 80 or 160 MHz on the C3
