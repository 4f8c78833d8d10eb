"""Reading the firmware's MONO_VLSB buffer into pixels, text and PNG."""

from PIL import Image

from fobsim import screen


def _buffer_with(width, height, lit):
    buffer = bytearray(width * height // 8)
    for x, y in lit:
        buffer[(y >> 3) * width + x] |= 1 << (y & 7)
    return buffer


def test_vlsb_layout_is_columns_of_eight_lsb_on_top():
    buffer = bytearray(16 * 16 // 8)
    buffer[0] = 0b0000_0001  # x 0, y 0
    buffer[1] = 0b1000_0000  # x 1, y 7
    buffer[16 + 2] = 0b0000_0010  # x 2, y 9
    rows = screen.pixel_rows(buffer, 16, 16)
    lit = {(x, y) for y, row in enumerate(rows) for x, v in enumerate(row) if v}
    assert lit == {(0, 0), (1, 7), (2, 9)}


def test_text_uses_half_blocks_two_rows_a_line():
    rows = screen.pixel_rows(_buffer_with(4, 8, [(0, 0), (1, 1), (2, 0), (2, 1)]), 4, 8)
    lines = screen.to_text(rows).split("\n")
    assert len(lines) == 4
    assert lines[0] == "▀▄█ "
    assert lines[1:] == ["    "] * 3


def test_png_is_the_pixels_scaled(tmp_path):
    lit = [(0, 0), (5, 3), (127, 31)]
    rows = screen.pixel_rows(_buffer_with(128, 32, lit), 128, 32)
    path = tmp_path / "display.png"
    path.write_bytes(screen.png_bytes(rows, scale=3))
    image = Image.open(path).convert("RGB")
    assert image.size == (384, 96)
    for y in range(0, 96, 3):
        for x in range(0, 384, 3):
            expected = screen.ON if (x // 3, y // 3) in lit else screen.OFF
            assert image.getpixel((x + 2, y + 1)) == expected
