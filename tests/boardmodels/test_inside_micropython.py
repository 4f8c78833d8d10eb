"""The sleep paths again, with the real board stack inside the MicroPython unix port at a fixed heap.

The same board models as the CPython runs (tests/modelvm.py forwards the VM's
``machine``, ``esp32``, ``time`` and ``select`` to them, idle time skipped), the
.mpy files `fob flash` installs on littlefs, micropython-lib's ssd1306, the
port's own asyncio.  Short scenarios: each sleep path once, and a DS3231 missing.
"""

import pytest
from fixedheap import MINIMUM
from flashimage import board_firmware
from modelfob import code_frame, frames_between, message_frame, provisioned, woke_time
from modelvm import MicroPythonEngine

from fobsim.models import ports
from fobsim.models.fob import BOARDS

ASLEEP = 40  # pressed 10 s after the display timed out (30 s after the boot's press)


@pytest.fixture
def make_fob(tmp_path):
    made = []

    def make(board, **options):
        engine = MicroPythonEngine(board_firmware(board), MINIMUM[(board, "sealed fob in use")])
        made.append(engine)
        return provisioned(board, tmp_path / "flash", engine=engine, **options)

    yield make
    for engine in made:
        assert b">>>" not in engine.output, engine.output[-500:]


def assert_woke_with_its_code(fob, press, within=5):
    woke = frames_between(fob, press, press + within)
    assert woke, "the press at %s s showed nothing" % press
    assert woke[0] == code_frame(fob, woke_time(fob, press))


def test_pico_on_battery_sleeps_in_slices_and_wakes_when_pressed(make_fob):
    fob = make_fob("rp2-pico-ssd1306")
    fob.press_at(ASLEEP)
    fob.run_until(ASLEEP + 3)
    assert fob.screens()[0][1] == code_frame(fob, fob.screens()[0][0])  # the boot shows the code
    assert fob.world.ledger.totals()[("mcu", "sleep")] > ASLEEP - 5  # timed lightsleep, not idling
    assert [cause for _, cause in fob.boots] == [ports.PWRON_RESET]  # RAM and the app survive
    assert_woke_with_its_code(fob, ASLEEP)


def test_c3_deep_sleeps_and_its_button_wakes_it_through_a_reset(make_fob):
    fob = make_fob("esp32c3-ssd1306")
    fob.press_at(ASLEEP)
    fob.run_until(ASLEEP + 3)
    assert [cause for _, cause in fob.boots] == [ports.PWRON_RESET, ports.DEEPSLEEP_RESET]
    assert fob.world.ledger.totals()[("mcu", "deepsleep")] > ASLEEP - 35
    assert_woke_with_its_code(fob, ASLEEP)


@pytest.mark.parametrize("board", BOARDS)
def test_latch_build_is_off_after_the_timeout_until_the_next_press(make_fob, board):
    fob = make_fob(board, latch=True)
    fob.press_at(1)
    fob.press_at(1 + ASLEEP)
    fob.run_until(4 + ASLEEP)
    assert [cause for _, cause in fob.boots] == [ports.PWRON_RESET, ports.PWRON_RESET]
    assert fob.world.ledger.totals()[("mcu", "off")] > ASLEEP - 35 + 1, "the latch was never released"
    assert_woke_with_its_code(fob, 1)
    assert_woke_with_its_code(fob, 1 + ASLEEP)


@pytest.mark.parametrize("board", BOARDS)
def test_no_ds3231_shows_clock(make_fob, board):
    fob = make_fob(board, ds3231=False)  # on the C3 the RTC memory is garbage after power-on: no fallback
    fob.run_until(2)
    assert fob.screens() and fob.screens()[-1][1] == message_frame("CLOCK")
