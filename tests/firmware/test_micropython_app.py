"""The firmware inside the real MicroPython VM: same pixels as CPython, same states, same records."""

import json

from fakeboard import FakeBoard

from fobcore import render
from fobcore.monofb import FrameBuffer
from fobcore.record import Record, encode
from mpvm import FOBCORE, SCRIPT_BOARD, run
from oracles import pyotp_totp_at

NOW = 1_800_000_035
SEED = bytes(range(100, 132))

VIEWS = [
    ["code", "000000", 60, 60, "12345678"],
    ["code", "123456", 1, 60, "999999999999"],
    ["code", "9876543", 29, 30, "20260001"],
    ["code", "12345678", 45, 60, "20260001"],
    ["code", "0123456789", 3599, 3600, "00000000"],
    ["message", "NO SEED", ""],
    ["message", "NO SEED", "12345678"],
    ["message", "EXPIRED", "12345678"],
    ["message", "CLOCK", "20260042"],
    ["message", "CORRUPT", "SEED RECORD"],
    ["message", "ABCDEFGHIJKLMNOPQRSTU", "VWXYZ-:.%/ ?"],
]
SIZES = [(128, 32), (128, 64), (64, 48)]

VM_RENDER = """
import binascii, framebuf, json
from fobcore import render
out = []
for width, height in %s:
    for view in %s:
        buf = bytearray(width * height // 8)
        fb = framebuf.FrameBuffer(buf, width, height, framebuf.MONO_VLSB)
        fb.fill(1)  # every screen starts by clearing: leftovers must not show
        if view[0] == "code":
            render.draw_code(fb, width, height, view[1], view[2], view[3], view[4])
        else:
            render.draw_message(fb, width, height, view[1], view[2])
        out.append(binascii.hexlify(buf).decode())
print(json.dumps(out))
"""


def cpython_frames():
    frames = []
    for width, height in SIZES:
        for view in VIEWS:
            fb = FrameBuffer(bytearray(width * height // 8), width, height)
            fb.fill(1)
            if view[0] == "code":
                render.draw_code(fb, width, height, *view[1:])
            else:
                render.draw_message(fb, width, height, *view[1:])
            frames.append(bytes(fb.buf).hex())
    return frames


def test_cpython_and_micropython_render_identical_bytes(vm_cases, micropython_port):
    vm_frames = json.loads(run(VM_RENDER % (json.dumps(SIZES), json.dumps(VIEWS)), port=micropython_port))
    expected = cpython_frames()
    assert len(vm_frames) == len(expected) == len(SIZES) * len(VIEWS)
    for i, (vm, cpython) in enumerate(zip(vm_frames, expected, strict=True)):
        assert vm == cpython, "frame differs: %s at %s" % (VIEWS[i % len(VIEWS)], SIZES[i // len(VIEWS)])
        assert int(cpython, 16)  # something was drawn
    vm_cases.append(("firmware screens, byte-compared with CPython", len(vm_frames)))


VM_APP = """
import binascii, json, os
from scriptboard import ScriptBoard
from fobcore.app import App
from fobcore.token import Token, TokenError

NOW = %d
SEED = binascii.unhexlify("%s")
out = {}

def refusal(call):
    try:
        call()
    except TokenError as e:
        return e.code
    return None

board = ScriptBoard(NOW)
app = App(board)
app.press()
out["blank"] = [app.token.state, list(app.shown), binascii.hexlify(board.buffer).decode()]
app.token.provision(SEED, "sha1", 8, 30, "20260042", NOW + 3600)
app.tick()
out["active"] = [app.token.state, list(app.shown), app.token.check()]
# Walk over the step boundary while the display is on.
codes = []
while app.display_on:
    board.advance(app.tick() or 0)
    if app.display_on and app.shown[1] not in codes:
        codes.append(app.shown[1])
out["walk"] = [board.ms, codes, board.display_on]
app.token.seal()
app.press()
out["sealed"] = [app.token.state, app.shown[1], board.kbd_intr_enabled]
out["sealed"] += [refusal(app.token.check), refusal(lambda: app.token.set_time(NOW))]
board.set_time(None)
app.tick()
out["clock"] = [app.token.state, list(app.shown)]
board.set_time(NOW + 3600)
app.tick()
out["expired"] = [app.token.state, list(app.shown), refusal(app.token.code_now)]
with open("/data/seed.rec", "rb") as f:
    out["record"] = binascii.hexlify(f.read()).decode()
with open("/data/seed.rec", "r+b") as f:
    f.seek(20)
    f.write(b"\\x00")
app = App(board, Token(board))
app.press()
out["corrupt"] = [app.token.state, list(app.shown), app.token.info()["problem"]]
app.token.wipe()
out["wiped"] = [app.token.state, app.token.serial, board.kbd_intr_enabled]
print(json.dumps(out))
"""


def test_the_app_through_every_state_inside_micropython(tmp_path, vm_cases, micropython_port):
    out = json.loads(run(VM_APP % (NOW, SEED.hex()), copies=(FOBCORE, SCRIPT_BOARD), port=micropython_port))

    blank_board = FakeBoard(tmp_path, NOW)
    fb = blank_board.framebuffer
    render.draw_message(fb, 128, 32, "NO SEED", "")
    assert out["blank"] == ["BLANK", ["BLANK", ""], bytes(fb.buf).hex()]

    code = pyotp_totp_at(SEED, NOW, period=30, digits=8)
    assert out["active"] == ["ACTIVE", ["code", code, 30 - NOW % 30, 30, "20260042", False], code]
    # 25 s left in the step, 30 s of display: the code changes once while shown, then the display goes off.
    walk_ms, codes, display_on = out["walk"]
    assert walk_ms == 30000 and not display_on
    assert codes == [code, pyotp_totp_at(SEED, NOW + 30 - NOW % 30, period=30, digits=8)]

    assert out["sealed"] == ["SEALED", pyotp_totp_at(SEED, NOW + 30, period=30, digits=8), False, "sealed", "sealed"]
    assert out["clock"] == ["CLOCK", ["CLOCK", "20260042"]]
    assert out["expired"] == ["EXPIRED", ["EXPIRED", "20260042"], "expired"]
    # The board's record is byte for byte what CPython writes for the same token.
    # Its known time is that of the last code it showed, the sealed press's.
    known = NOW + 30
    assert out["record"] == encode(Record(SEED, "sha1", 8, 30, "20260042", NOW + 3600, sealed=True, known=known)).hex()
    state, shown, problem = out["corrupt"]
    assert state == "CORRUPT" and shown == ["CORRUPT", "SEED RECORD"] and "checksum" in problem
    assert out["wiped"] == ["BLANK", "", True]
    vm_cases.append(("firmware app: every state, step boundary, timeout, record", 9))
