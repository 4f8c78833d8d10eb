"""The information screen (a ~3 s hold) and the low-battery mark, on the real board files."""

import time

from modelfob import SEED, SERIAL, frame_of

from fobcore import render
from oracles import pyotp_totp_at


def test_a_three_second_hold_shows_serial_utc_battery_and_firmware(make_fob):
    fob = make_fob("rp2-pico-ssd1306")
    fob.press_at(60, hold=4.0)
    fob.run_until(65)
    t, frame = next((t, frame) for t, frame in fob.screens() if t >= 63)
    utc = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(fob.world.utc_start + t)))
    assert frame == frame_of(render.draw_lines, ("SN " + SERIAL, utc, "BAT 70%", "FW 0.1.0"))  # VSYS 3.9 V


def test_a_nearly_empty_cell_marks_the_code_screen(make_fob):
    fob = make_fob("rp2-pico-ssd1306")
    fob.machine.vsys_volts = 3.35  # 5 % on the board's LiPo scale
    fob.run_until(2)
    t, frame = fob.screens()[0]
    utc = int(fob.world.utc_start + t)
    code = pyotp_totp_at(SEED, utc, period=30)
    assert frame == frame_of(render.draw_code, code, 30 - utc % 30, 30, SERIAL, True)
