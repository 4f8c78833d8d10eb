"""fobcore.monofb draws the same bytes as MicroPython's framebuf, clipping included."""

import json
import random

import pytest

from fobcore import glyphs
from fobcore.monofb import FrameBuffer, framebuffer
from fobcore.render import draw_text
from mpvm import run

VM_DRAW = """
import binascii, framebuf, json
out = []
for width, height, ops in json.load(open("/cases/ops.json")):
    buf = bytearray(width * ((height + 7) // 8))
    fb = framebuf.FrameBuffer(buf, width, height, framebuf.MONO_VLSB)
    for op in ops:
        getattr(fb, op[0])(*op[1:])
    out.append(binascii.hexlify(buf).decode())
print(json.dumps(out))
"""


def random_ops(rng, width, height):
    def coord(limit):
        return rng.randrange(-10, limit + 10)

    ops = []
    for _ in range(60):
        kind = rng.choice(["fill_rect", "pixel", "hline", "vline", "rect", "rect_filled", "fill"])
        c = rng.randrange(2)
        if kind == "fill":
            ops.append(["fill", c])
        elif kind == "pixel":
            ops.append(["pixel", coord(width), coord(height), c])
        elif kind == "hline":
            ops.append(["hline", coord(width), coord(height), rng.randrange(-3, width + 5), c])
        elif kind == "vline":
            ops.append(["vline", coord(width), coord(height), rng.randrange(-3, height + 5), c])
        else:
            w, h = rng.randrange(-3, width + 5), rng.randrange(-3, height + 5)
            if kind == "fill_rect":
                ops.append(["fill_rect", coord(width), coord(height), w, h, c])
            else:
                ops.append(["rect", coord(width), coord(height), w, h, c, kind == "rect_filled"])
    return ops


def test_random_drawing_matches_micropython(tmp_path, vm_cases, micropython_port):
    rng = random.Random(1306)
    cases = [[w, h, random_ops(rng, w, h)] for w, h in [(128, 32), (128, 64), (64, 48), (72, 40), (13, 11)] * 8]
    (tmp_path / "ops.json").write_text(json.dumps(cases))
    vm = json.loads(run(VM_DRAW, copies=((str(tmp_path), "/cases"),), port=micropython_port))
    for (width, height, ops), expected in zip(cases, vm, strict=True):
        fb = FrameBuffer(bytearray(width * ((height + 7) // 8)), width, height)
        for op in ops:
            getattr(fb, op[0])(*op[1:])
        assert bytes(fb.buf).hex() == expected, (width, height)
    vm_cases.append(("monofb vs framebuf: random drawing with clipping", len(cases)))


def test_pixel_reads_back_and_ignores_the_outside():
    fb = framebuffer(16, 8)
    fb.pixel(3, 5, 1)
    assert fb.pixel(3, 5) == 1 and fb.pixel(4, 5) == 0
    assert fb.pixel(-1, 0) is None and fb.pixel(16, 0) is None
    assert fb.buf[3] == 1 << 5


def test_only_mono_vlsb_and_big_enough_buffers():
    with pytest.raises(ValueError):
        FrameBuffer(bytearray(16), 16, 8, format=1)
    with pytest.raises(ValueError):
        FrameBuffer(bytearray(15), 16, 8)


def test_the_font_draws_what_it_says():
    fb = framebuffer(23, 7)
    draw_text(fb, "0K7", 0, 0)
    rows = ["".join("#" if fb.pixel(x, y) else "." for x in range(17)) for y in range(7)]
    assert rows == [
        ".###..#...#.#####",
        "#...#.#..#......#",
        "#..##.#.#......#.",
        "#.#.#.##......#..",
        "##..#.#.#....#...",
        "#...#.#..#...#...",
        ".###..#...#..#...",
    ]
    assert len(glyphs.BITMAPS) == len(glyphs.CHARS) * glyphs.WIDTH
