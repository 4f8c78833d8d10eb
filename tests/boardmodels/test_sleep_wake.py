"""Press -> wake -> code on every board's sleep path, on MicroPython 1.27's sleep and wake rules."""

import pytest
from modelfob import code_frame, frames_between, message_frame, woke_time

from fobsim.models import ports
from fobsim.models.fob import BOARDS

HOUR = 3600
DAY = 24 * HOUR


def test_pico_on_battery_wakes_from_idle_when_pressed(make_fob):
    fob = make_fob("rp2-pico-ssd1306")
    fob.press_at(HOUR + 0.5)
    fob.run_until(HOUR + 5)
    assert fob.screens()[0][1] == code_frame(fob, 0.4)  # the boot shows the code
    assert fob.world.ledger.totals()[("mcu", "sleep")] > HOUR - 60  # display off: asleep, not idling
    woke = frames_between(fob, HOUR + 0.5, HOUR + 5)
    assert woke, "the press never woke the Pico"
    assert woke[0] == code_frame(fob, woke_time(fob, HOUR + 0.5))


def test_pico_press_during_sleep_entry_is_not_lost(make_fob):
    fob = make_fob("rp2-pico-ssd1306")
    fob.press_at(30.4, hold=0.3)  # the display times out 30 s after the boot's press (at 0.35 s + I2C)
    fob.run_until(40)
    assert frames_between(fob, 30.4, 40), "a press as the fob went to sleep was lost"


@pytest.mark.parametrize("ds3231", [True, False])
def test_c3_sleeps_until_pressed_and_wakes_by_its_button(make_fob, ds3231):
    fob = make_fob("esp32c3-ssd1306", ds3231=ds3231)
    if not ds3231:  # provisioned over USB: the internal RTC was set, then the fob went on battery
        fob.machine.rtc_memory = b"fobclock"
    fob.press_at(DAY)
    fob.run_until(DAY + 5)
    causes = [cause for _, cause in fob.boots]
    assert causes == [ports.PWRON_RESET, ports.DEEPSLEEP_RESET], "woke %d times in a day" % (len(causes) - 1)
    assert fob.world.ledger.totals()[("mcu", "deepsleep")] > DAY - 60


def test_c3_rc_drift_is_corrected_by_the_ds3231_at_every_wake(make_fob):
    fob = make_fob("esp32c3-ssd1306", rc_drift=0.03)  # users report up to ~5 % on the RC slow clock
    fob.press_at(DAY)
    fob.run_until(DAY + 5)
    woke = frames_between(fob, DAY, DAY + 5)
    assert woke and woke[0] == code_frame(fob, woke_time(fob, DAY)), "the code came from the drifted RC clock"


def test_pico_24h_asleep_keeps_the_time_to_the_second(make_fob):
    fob = make_fob("rp2-pico-ssd1306")
    fob.press_at(DAY)
    fob.run_until(DAY + 2)
    assert abs(fob.ds3231.utc() - fob.world.utc()) < 1
    woke = frames_between(fob, DAY, DAY + 2)
    assert woke and woke[0] == code_frame(fob, woke_time(fob, DAY))


def test_c3_without_ds3231_after_power_loss_shows_clock(make_fob):
    fob = make_fob("esp32c3-ssd1306", ds3231=False)  # RTC memory is garbage after power-on
    fob.run_until(2)
    assert fob.screens()[-1][1] == message_frame("CLOCK")


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("fault", ["missing", "ones", "bcd", "osf"])
def test_a_faulty_ds3231_shows_clock_never_a_code(make_fob, board, fault):
    fob = make_fob(board, ds3231=fault != "missing")
    if fault in ("ones", "bcd"):
        fob.ds3231.glitch = fault
    elif fault == "osf":
        fob.ds3231.stop_oscillator()
    fob.run_until(2)
    assert fob.screens(), "nothing shown"
    assert fob.screens()[-1][1] == message_frame("CLOCK")


@pytest.mark.parametrize("board", BOARDS)
def test_button_held_through_boot_and_bouncing_shows_one_code(make_fob, board):
    fob = make_fob(board)
    fob.press_at(0.0, hold=3.0)  # held from power-on
    for bounce in range(4):  # a bouncing contact: four 1 ms closures, then the press itself
        fob.press_at(40 + bounce * 0.002, hold=0.001)
    fob.press_at(40.008, hold=0.3)
    fob.run_until(45)
    assert fob.screens()[0][1] == code_frame(fob, fob.screens()[0][0])
    woke = frames_between(fob, 40, 45)
    assert woke and woke[0] == code_frame(fob, woke_time(fob, 40))


def test_pico_without_ds3231_shows_clock_after_a_sleep(make_fob):
    fob = make_fob("rp2-pico-ssd1306", ds3231=False)  # its own RTC restarted at boot: no time to trust
    fob.press_at(HOUR)
    fob.run_until(HOUR + 2)
    assert frames_between(fob, HOUR, HOUR + 2)[0] == message_frame("CLOCK")


def test_c3_press_during_deep_sleep_entry_wakes_at_once(make_fob):
    first = make_fob("esp32c3-ssd1306")
    first.run_until(40)
    entry = next(t for t, part, state in first.world.ledger.history if (part, state) == ("mcu", "deepsleep"))
    fob = make_fob("esp32c3-ssd1306")
    fob.press_at(entry - 30e-6, hold=0.5)  # while poweroff() is still on the bus, just before machine.deepsleep()
    fob.run_until(40)
    assert [cause for _, cause in fob.boots] == [ports.PWRON_RESET, ports.DEEPSLEEP_RESET]
    woke = frames_between(fob, 30.4, 40)
    assert woke and woke[0] == code_frame(fob, woke_time(fob, 30.4))
