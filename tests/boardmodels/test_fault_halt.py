"""A sealed fob that fails to start three times halts on FAULT, then powers off instead of idling awake."""

import pytest
from modelfob import frames_between, message_frame

from fobsim.models import energy, ports
from fobsim.models.fob import BOARDS

HOUR = 3600
SWITCHED_ON = 10  # seconds: the press that switches a latch-build fob on
FAULT = message_frame("FAULT", "RESTART")


def _average_ua(fob, start, end, latch):
    """The mean current drawn from the cell between world times ``start`` and ``end``."""
    charge = energy.charges(fob, (start, end), latch)
    return (charge[end] - charge[start]) / (end - start)


def _switched_on_damaged(make_fob, board, part):
    """A latch-build fob with ``part`` damaged, switched on by a press (its only way on)."""
    fob = make_fob(board, latch=True)
    fob.damage(part)
    fob.press_at(SWITCHED_ON)
    return fob


@pytest.mark.parametrize("board", BOARDS)
def test_the_latch_build_halts_on_fault_then_draws_only_the_latch_leakage(make_fob, board):
    # a half-copied firmware: the board driver works, the app does not
    fob = _switched_on_damaged(make_fob, board, "fobcore.app")
    drawn = _average_ua(fob, 200, HOUR, latch=True)
    assert [cause for _, cause in fob.boots] == [ports.PWRON_RESET, ports.HARD_RESET, ports.HARD_RESET]
    assert frames_between(fob, SWITCHED_ON, 60)[-1:] == [FAULT]
    assert fob.world.ledger.state("mcu") == "off", "the halt kept the latch held"
    assert drawn <= fob.profile.current("latch", "off")


@pytest.mark.parametrize("board", BOARDS)
def test_a_press_after_the_halt_gives_three_more_tries(make_fob, board):
    fob = _switched_on_damaged(make_fob, board, "fobcore.app")
    fob.press_at(HOUR)
    fob.run_until(HOUR + 120)
    assert [round(t) for t, cause in fob.boots if cause == ports.PWRON_RESET] == [SWITCHED_ON, HOUR]
    assert len(fob.boots) == 6
    assert frames_between(fob, HOUR, HOUR + 60)[-1:] == [FAULT]
    assert fob.world.ledger.state("mcu") == "off"


@pytest.mark.parametrize("board", BOARDS)
def test_the_plain_build_sleeps_after_the_fault_screen(make_fob, board):
    fob = make_fob(board)
    fob.damage("fobcore.app")
    drawn = _average_ua(fob, 200, HOUR, latch=False)
    assert len(fob.boots) == 3, "the halt reset without a press"
    assert frames_between(fob, 0, 60)[-1:] == [FAULT]
    assert drawn < fob.profile.current("mcu", "idle") / 10, "the halt idled awake"


@pytest.mark.parametrize("board", BOARDS)
def test_a_failing_board_driver_halts_awake_and_never_boots_again(make_fob, board):
    fob = _switched_on_damaged(make_fob, board, "board")
    fob.run_until(HOUR)
    assert len(fob.boots) == 3  # two resets, then the halt: it holds the latch (no driver to release it)
    assert fob.world.ledger.state("mcu") != "off"


@pytest.mark.parametrize("board", BOARDS)
def test_on_usb_the_halt_stays_awake_with_fault_on_screen(make_fob, board):
    fob = make_fob(board, latch=True, usb=True)
    fob.damage("fobcore.app")
    fob.run_until(HOUR)
    assert len(fob.boots) == 3
    assert fob.display.on and fob.screens()[-1][1] == FAULT
    assert fob.world.ledger.state("mcu") == "idle"  # the host powers it
