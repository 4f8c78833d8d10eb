"""The fob application under CPython: screens per state, step boundaries, display timeout, serial alongside."""

import asyncio
import time

import pytest
from fakeboard import FakeBoard

from fobcore import render, wire
from fobcore.app import App
from fobcore.mainloop import serve
from fobcore.monofb import FrameBuffer
from oracles import pyotp_totp_at

NOW = 1_800_000_010  # 10 s into a 60 s step
SEED = bytes(range(40, 60))
YEAR = 365 * 86400


def fob(tmp_path, state="ACTIVE", **board):
    b = FakeBoard(tmp_path, NOW, **board)
    app = App(b)
    if state != "BLANK":
        app.token.provision(SEED, "sha1", 6, 60, "20260042", NOW + YEAR)
    if state == "SEALED":
        app.token.seal()
    return b, app


def expected_frame(board, draw, *args):
    """The frame drawn directly by fobcore.render, for comparing with what the app showed."""
    fb = FrameBuffer(bytearray(board.width * board.height // 8), board.width, board.height)
    draw(fb, board.width, board.height, *args)
    return bytes(fb.buf)


def test_press_shows_the_code_bar_and_serial(tmp_path):
    board, app = fob(tmp_path, "SEALED")
    app.press()
    code = pyotp_totp_at(SEED, NOW)
    assert board.display_on
    assert app.shown == ("code", code, 50, 60, "20260042", False)
    assert board.frames[-1] == expected_frame(board, render.draw_code, code, 50, 60, "20260042")
    rows = board.pixels()
    bar = rows[22]
    assert bar == "#" * (128 * 50 // 60) + "." * (128 - 128 * 50 // 60)


@pytest.mark.parametrize(
    "state,setup,title,subtitle",
    [
        ("BLANK", None, "NO SEED", ""),
        ("ACTIVE", lambda b: b.set_time(None), "CLOCK", "20260042"),
        ("ACTIVE", lambda b: b.set_time(946684800 + 5), "CLOCK", "20260042"),
        ("SEALED", lambda b: b.advance(YEAR), "EXPIRED", "20260042"),
        ("ACTIVE", lambda b: b.storage_path("seed.rec").write_bytes(b"FOBS\x01garbage"), "CORRUPT", "SEED RECORD"),
    ],
)
def test_every_state_has_its_screen_and_never_a_code(tmp_path, state, setup, title, subtitle):
    board, app = fob(tmp_path, state)
    if setup:
        setup(board)
    app = App(board)  # as after a reboot
    app.press()
    assert app.shown[0] == app.token.state != "ACTIVE"
    assert board.frames[-1] == expected_frame(board, render.draw_message, title, subtitle)


def test_blank_fob_shows_its_serial_after_a_wipe(tmp_path):
    board, app = fob(tmp_path, "SEALED")
    app.token.wipe()
    app.press()
    assert app.shown == ("BLANK", "20260042")
    assert board.frames[-1] == expected_frame(board, render.draw_message, "NO SEED", "20260042")


def test_code_changes_at_the_step_boundary_while_shown(tmp_path):
    board, app = fob(tmp_path)
    board.advance(35)  # 15 s left in the step
    app.press()
    first = pyotp_totp_at(SEED, NOW + 35)
    boundary = NOW + 50
    while True:
        board.advance(app.tick() / 1000)
        app.tick()
        if board.time() == boundary:
            break
        assert app.shown == ("code", first, boundary - board.time(), 60, "20260042", False)
    assert app.shown == ("code", pyotp_totp_at(SEED, boundary), 60, 60, "20260042", False)
    assert pyotp_totp_at(SEED, boundary) != first


def test_redraws_only_when_the_view_changes(tmp_path):
    board, app = fob(tmp_path)
    app.press()
    frames = len(board.frames)
    board.advance(0.4)
    app.tick()
    assert len(board.frames) == frames
    board.advance(0.6)
    app.tick()
    assert len(board.frames) == frames + 1


@pytest.mark.parametrize("timeout_ms", [30000, 5000])
def test_display_turns_off_after_the_timeout_and_a_press_restarts_it(tmp_path, timeout_ms):
    board = FakeBoard(tmp_path, NOW)
    app = App(board, display_timeout_ms=timeout_ms)
    app.press()
    elapsed = 0
    while (wait := app.tick()) is not None:
        assert board.display_on and wait <= 500
        board.advance(wait / 1000)
        elapsed += wait
    assert elapsed == timeout_ms and not board.display_on
    assert app.tick() is None  # stays off: only the button wakes it
    app.press()
    assert board.display_on and app.tick() == 500


def test_a_press_while_on_extends_the_timeout(tmp_path):
    board = FakeBoard(tmp_path, NOW)
    app = App(board)
    app.press()
    board.advance(20)
    app.press()
    board.advance(20)
    assert app.tick() == 500 and board.display_on


def test_provisioning_over_serial_updates_a_shown_display(tmp_path):
    board, app = fob(tmp_path, "BLANK")
    app.press()
    assert app.shown == ("BLANK", "")
    seed = "AAAQEAYEAMFAQCIBAEAQCAIBAEAQCAIB"
    app.receive(b"FOB1 0000 INFO *" + b"%04X" % wire.crc16(b"FOB1 0000 INFO") + b"\n")
    body = "PROVISION seed=%s alg=sha1 digits=6 period=60 serial=12345678 expiry=%d" % (seed, NOW + YEAR)
    app.receive(wire.encode_frame(1, body)[:10])  # a frame may arrive in pieces
    app.receive(wire.encode_frame(1, body)[10:])
    replies = bytes(board.serial_out).splitlines()
    assert len(replies) == 2 and b" OK " in replies[1] and b"state=ACTIVE" in replies[1]
    app.tick()
    assert app.shown[0] == "code" and app.shown[4] == "12345678"


def test_oversized_and_garbage_lines_get_error_replies(tmp_path):
    board, app = fob(tmp_path, "SEALED")
    app.receive(b"x" * 5000 + b"\n\xff\x03\n")
    replies = bytes(board.serial_out).splitlines()
    assert len(replies) == 2 and all(b" ERR " in r for r in replies)
    assert b"\x03" not in board.serial_out
    assert app.token.state == "SEALED"


def test_serve_runs_serial_alongside_the_display(tmp_path):
    """The asyncio main loop: the display times out and sleeps while INFO frames are answered."""
    board, app = fob(tmp_path, "SEALED")
    board.allow_deep_sleep = True

    async def session():
        task = asyncio.create_task(serve(app))
        info = wire.encode_frame(7, "INFO")
        for _ in range(3):
            board.send(info)
            while not bytes(board.serial_out).endswith(b"\n"):
                await asyncio.sleep(0)
            assert b"state=SEALED" in board.serial_out
            board.serial_out.clear()
        while board.display_on or not board.deep_sleeps:
            await asyncio.sleep(0)
        # Display off: the loop now waits for the button alone, no timed wake-ups (virtual time stands still).
        ticks, frames = board.ticks, len(board.frames)
        for _ in range(200):
            await asyncio.sleep(0)
        assert (board.ticks, len(board.frames), board.deep_sleeps) == (ticks, frames, 1)
        board.press()
        while not board.display_on:
            await asyncio.sleep(0)
        task.cancel()

    asyncio.run(asyncio.wait_for(session(), 10))
    assert board.deep_sleeps == 1 and app.shown[0] == "code"


def test_expiry_while_shown_replaces_the_code(tmp_path):
    board = FakeBoard(tmp_path, NOW)
    app = App(board)
    app.token.provision(SEED, "sha1", 6, 60, "20260042", NOW + 3)
    app.press()
    assert app.shown[0] == "code"
    for _ in range(6):
        board.advance(app.tick() / 1000)
    app.tick()
    assert app.shown == ("EXPIRED", "20260042") and board.display_on
    assert board.frames[-1] == expected_frame(board, render.draw_message, "EXPIRED", "20260042")


class GlitchingClockBoard(FakeBoard):
    """A board whose RTC read fails once (an I2C error: time() is None) at the ``fail_at``-th read."""

    def __init__(self, storage, unix_time, fail_at):
        super().__init__(storage, unix_time)
        self.reads = 0
        self.fail_at = fail_at

    def time(self):
        self.reads += 1
        return None if self.reads == self.fail_at else super().time()


@pytest.mark.parametrize("fail_at", range(1, 6))
def test_one_failed_clock_read_never_crashes_the_display_or_shows_a_wrong_code(tmp_path, fail_at):
    App(FakeBoard(tmp_path, NOW)).token.provision(SEED, "sha1", 6, 60, "20260042", NOW + YEAR)
    board = GlitchingClockBoard(tmp_path, NOW, fail_at)
    app = App(board)
    app.press()
    shown = [app.shown]
    for _ in range(6):
        board.advance(0.5)
        app.tick()
        shown.append(app.shown)
    assert ("CLOCK", "20260042") in shown  # the failed read was noticed, not papered over
    code = pyotp_totp_at(SEED, NOW)
    for view in shown:
        assert view == ("CLOCK", "20260042") or view[:2] == ("code", code) and 47 <= view[2] <= 50
    assert shown[-1][:2] == ("code", code)


def test_holding_the_button_three_seconds_shows_serial_utc_battery_and_firmware(tmp_path):
    board, app = fob(tmp_path, "SEALED")
    board.battery_level = 87
    app.press()
    board.held = True
    for _ in range(5):  # 2.5 s held: still the code
        board.advance(app.tick() / 1000)
    assert app.shown[0] == "code"
    board.advance(app.tick() / 1000)
    app.tick()
    assert app.shown[0] == "info"
    utc = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(board.time()))
    lines = ("SN 20260042", utc, "BAT 87%", "FW 0.1.0")
    assert board.frames[-1] == expected_frame(board, render.draw_lines, lines)
    board.held = False
    app.press()  # the next press: the code again
    assert app.shown[0] == "code"


def test_a_short_press_never_shows_the_information_screen(tmp_path):
    board, app = fob(tmp_path, "SEALED")
    app.press()
    for _ in range(20):
        board.advance(app.tick() / 1000)
    assert app.shown[0] == "code"


@pytest.mark.parametrize("level,low", [(None, False), (50, False), (10, False), (9, True), (0, True)])
def test_the_code_screen_marks_a_nearly_empty_battery(tmp_path, level, low):
    board, app = fob(tmp_path, "SEALED")
    board.battery_level = level
    app.press()
    code = pyotp_totp_at(SEED, NOW)
    assert app.shown == ("code", code, 50, 60, "20260042", low)
    assert board.frames[-1] == expected_frame(board, render.draw_code, code, 50, 60, "20260042", low)
    if low:
        assert board.frames[-1] != expected_frame(board, render.draw_code, code, 50, 60, "20260042")


def test_the_main_loop_switches_the_power_off_at_the_display_timeout(tmp_path):
    board, app = fob(tmp_path, "SEALED")
    board.allow_deep_sleep = True

    async def scenario():
        task = asyncio.ensure_future(serve(app))
        while not board.deep_sleeps:
            await asyncio.sleep(0)
        task.cancel()

    asyncio.run(scenario())
    assert board.power_offs == 1 and board.deep_sleeps == 1  # the plain build: power_off returned, then sleep
