"""The power-latch build: latch.py (imported first by main.py) holds the latch; released at the display timeout."""

import pytest
from modelfob import code_frame, frames_between, woke_time

from fobsim.models import ports
from fobsim.models.fob import BOARDS

HOUR = 3600


@pytest.mark.parametrize("board", BOARDS)
def test_latch_is_released_after_the_timeout_and_the_fob_is_off_until_the_next_press(make_fob, board):
    fob = make_fob(board, latch=True)
    fob.press_at(10)
    fob.press_at(HOUR)
    fob.run_until(HOUR + 5)
    assert [cause for _, cause in fob.boots] == [ports.PWRON_RESET, ports.PWRON_RESET]
    totals = fob.world.ledger.totals()
    assert totals[("mcu", "off")] > HOUR - 60, "the board stayed powered"
    assert ("mcu", "deepsleep") not in totals
    assert totals.get(("mcu", "sleep"), 0) < 2 * 30  # light sleep between redraws only, while the code shows
    for press in (10, HOUR):
        shown = frames_between(fob, press, press + 5)
        assert shown and shown[0] == code_frame(fob, woke_time(fob, press))
    assert frames_between(fob, 10, 10 + 30.5), "the code was shown for the whole display time"
    assert not frames_between(fob, 45, HOUR)


@pytest.mark.parametrize("board", BOARDS)
def test_a_press_shorter_than_the_boot_still_switches_the_fob_on(make_fob, board):
    fob = make_fob(board, latch=True)
    fob.press_at(10, hold=0.05)  # the gate RC keeps the supply on until latch.py holds the latch
    fob.run_until(20)
    assert frames_between(fob, 10, 20)


@pytest.mark.parametrize("board", BOARDS)
def test_with_usb_attached_the_latch_build_stays_on_for_the_host(make_fob, board):
    fob = make_fob(board, latch=True, usb=True)
    fob.run_until(HOUR)
    totals = fob.world.ledger.totals()
    assert len(fob.boots) == 1 and totals.get(("mcu", "off"), 0) == 0
    assert totals[("mcu", "idle")] > HOUR - 60  # awake, waiting for the host


@pytest.mark.parametrize("board", BOARDS)
def test_the_plain_build_ignores_the_latch_line_and_sleeps(make_fob, board):
    fob = make_fob(board, latch=False)
    fob.press_at(HOUR)
    fob.run_until(HOUR + 5)
    assert frames_between(fob, HOUR, HOUR + 5)
    assert fob.world.ledger.totals().get(("mcu", "off"), 0) == 0


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("latch", [False, True])
def test_a_button_held_through_the_timeout_is_let_go_before_the_fob_sleeps_or_powers_off(make_fob, board, latch):
    fob = make_fob(board, latch=latch)
    if latch:
        fob.press_at(1)  # the latch build is off until pressed
    fob.press_at(10, hold=35)  # still held when the display times out at about 40 s
    fob.run_until(90)
    assert len(fob.boots) == 1, "a sleep or power-off on the held button woke the fob at once"
    assert not frames_between(fob, 46, 90)
    if latch or board == "esp32c3-ssd1306":  # (the plain Pico sleeps in slices, waiting for a new press)
        off = [t for t, part, state in fob.world.ledger.history if part == "mcu" and state in ("off", "deepsleep")]
        assert off and off[-1] >= 45, "it slept or powered off before the button was let go"


def test_a_stuck_button_does_not_keep_the_c3_awake_and_it_wakes_when_let_go(make_fob):
    fob = make_fob("esp32c3-ssd1306")
    fob.press_at(10, hold=600)  # stuck down in a pocket
    fob.run_until(700)
    assert fob.world.ledger.totals()[("mcu", "deepsleep")] > 500, "the wait for the release had no bound"
    assert [round(t) for t, _ in fob.boots] == [0, 610]  # let go: it wakes once, then sleeps for a press


@pytest.mark.parametrize("board", BOARDS)
def test_a_reset_on_battery_is_survived_while_the_gate_rc_holds_the_supply(make_fob, board):
    fob = make_fob(board, latch=True)
    fob.press_at(1)
    fob.reset_at(5)  # as main.py's last resort does: every pin, the latch's hold line too, drops
    fob.run_until(8)
    assert [cause for _, cause in fob.boots] == [ports.PWRON_RESET, ports.HARD_RESET]
    assert frames_between(fob, 5, 8), "the fob did not come back after the reset"


def test_on_the_pico_a_reset_with_a_boot_slower_than_the_gate_rc_cuts_the_power(make_fob):
    fob = make_fob("rp2-pico-ssd1306", latch=True)
    fob.profile.boot_seconds = 1.5  # longer than R1*C1 (1 s): latch.py comes too late
    fob.press_at(1, hold=3)  # (held, the button powers the first boot)
    fob.reset_at(6)
    fob.run_until(11)
    assert not frames_between(fob, 6, 11), "the supply outlived its RC"
    assert fob.world.ledger.totals()[("mcu", "off")] > 3


def test_on_the_c3_a_reset_keeps_the_latch_held(make_fob):
    fob = make_fob("esp32c3-ssd1306", latch=True)
    fob.profile.boot_seconds = 1.5  # slower than the gate RC: the hold line itself stays up
    fob.press_at(1, hold=3)
    fob.reset_at(6)
    fob.run_until(11)
    assert [cause for _, cause in fob.boots] == [ports.PWRON_RESET, ports.HARD_RESET]
    assert frames_between(fob, 6, 11), "the C3 lost its supply at a reset"
