"""The fob's display as pixels: read from the firmware's MONO_VLSB buffer, shown in a terminal or a PNG.

MONO_VLSB is the SSD1306's own layout (and framebuf's): each byte is a
column of 8 pixels, least significant bit on top, pages of 8 rows.
"""

ON = (0x8F, 0xE8, 0xFF)  # the blue-white of a typical SSD1306 panel
OFF = (0x05, 0x08, 0x10)


def pixel_rows(buffer, width, height):
    """The display as ``height`` lists of ``width`` 0/1 values."""
    return [[(buffer[(y >> 3) * width + x] >> (y & 7)) & 1 for x in range(width)] for y in range(height)]


_HALF_BLOCKS = {(0, 0): " ", (1, 0): "▀", (0, 1): "▄", (1, 1): "█"}


def to_text(rows):
    """Two pixel rows per line of half-block characters."""
    if len(rows) % 2:
        rows = [*rows, [0] * len(rows[0])]
    return "\n".join(
        "".join(_HALF_BLOCKS[top, bottom] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(rows[0::2], rows[1::2], strict=True)
    )


# Quadrant blocks by (top-left, top-right, bottom-left, bottom-right).
_QUADRANTS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"


def to_quadrants(rows):
    """Two pixel rows and two columns per character: half the width of to_text, for 80-column terminals."""
    if len(rows) % 2:
        rows = [*rows, [0] * len(rows[0])]
    if len(rows[0]) % 2:
        rows = [[*row, 0] for row in rows]
    return "\n".join(
        "".join(
            _QUADRANTS[upper[x] | upper[x + 1] << 1 | lower[x] << 2 | lower[x + 1] << 3]
            for x in range(0, len(upper), 2)
        )
        for upper, lower in zip(rows[0::2], rows[1::2], strict=True)
    )


def to_image(rows, scale=1):
    """A Pillow RGB image of the display in OLED colours."""
    from PIL import Image

    height, width = len(rows), len(rows[0])
    image = Image.new("RGB", (width, height), OFF)
    image.putdata([ON if value else OFF for row in rows for value in row])
    if scale != 1:
        image = image.resize((width * scale, height * scale), Image.Resampling.NEAREST)
    return image


def png_bytes(rows, scale=1):
    import io

    out = io.BytesIO()
    to_image(rows, scale).save(out, format="PNG")
    return out.getvalue()
