"""One press is one press: the button IRQ and the level look-ups between sleeps never count it twice.

A board sees a press either through its ``Pin.irq`` handler (the CPU was running) or by its
level after a sleep that gated the GPIO bank; a press seen one way must be spent for the other.
A second count would show as an extra press: the display timeout restarted, the code drawn again.
"""

import pytest
from modelfob import code_frame

from fobsim.models.fob import BOARDS


def _running_window(fob, after, length=0.005):
    """The middle of the first stretch of at least ``length`` s after ``after`` in which the MCU ran
    (a redraw's I2C transfer): a press then is seen by the IRQ as well as by the next look at the level."""
    history = [(t, state) for t, part, state in fob.world.ledger.history if part == "mcu"]
    for (t, state), (t_next, _) in zip(history, history[1:], strict=False):
        if t > after and state in ("run", "run_low") and t_next - t >= length:
            return (t + t_next) / 2
    raise AssertionError("the MCU never ran for %s s after %s s" % (length, after))


def _display_off_after(fob, t):
    history = fob.world.ledger.history
    return next(when for when, part, state in history if (part, state) == ("display", "off") and when > t)


@pytest.mark.parametrize("board", BOARDS)
def test_a_press_seen_by_irq_and_level_is_not_pressed_again_when_usb_arrives(make_fob, board):
    probe = make_fob(board)
    probe.run_until(10)
    press = _running_window(probe, 5)
    fob = make_fob(board)
    fob.press_at(press)
    fob.usb_at(press + 10, True)  # on USB the board waits on its IRQ flag alone
    fob.run_until(press + 45)
    off = _display_off_after(fob, press + 1)
    assert press + 30 <= off < press + 30.6, "the display stayed on until %.1f s after the press" % (off - press)


@pytest.mark.parametrize("board", BOARDS)
def test_a_held_press_seen_by_irq_is_not_pressed_again_when_usb_goes(make_fob, board):
    fob = make_fob(board, usb=True)
    fob.press_at(5, hold=3)
    fob.usb_at(6, False)  # on battery the board looks at the level between sleeps: the button is still down
    fob.run_until(45)
    off = _display_off_after(fob, 6)
    assert 35 <= off < 35.6, "the display stayed on until %.1f s after the press" % (off - 5)


@pytest.mark.parametrize("board", BOARDS)
def test_on_battery_a_long_hold_while_a_code_shows_brings_up_the_information_screen(make_fob, board):
    fob = make_fob(board)
    fob.press_at(10, hold=4)  # the boot's code is still shown: the board sleeps between redraws
    fob.run_until(15)
    held = [(t, frame) for t, frame in fob.screens() if 13 <= t < 14]
    assert held, "nothing was drawn while the button was held"
    t, frame = held[-1]
    assert frame != code_frame(fob, t), "no information screen after a 3 s hold"
