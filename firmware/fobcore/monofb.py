"""A pure-Python stand-in for framebuf.FrameBuffer in MONO_VLSB format.

CPython (tests, the simulator) has no framebuf; this draws the same bytes
as MicroPython's modframebuf.c for the subset fobcore uses: fill,
fill_rect, pixel, hline, vline and rect, with the same clipping.  Boards
use the real framebuf (see ``framebuffer``).
"""

MONO_VLSB = 0


class FrameBuffer:
    """Pixels in ``buf``: byte (y // 8) * stride + x, bit y % 8 (the SSD1306 layout)."""

    def __init__(self, buf, width, height, format=MONO_VLSB, stride=None):
        if format != MONO_VLSB:
            raise ValueError("only MONO_VLSB is supported")
        if len(buf) < ((height + 7) // 8) * (stride or width):
            raise ValueError("buffer too small")
        self.buf = buf
        self.width = width
        self.height = height
        self.stride = stride or width

    def fill_rect(self, x, y, w, h, c):
        if w < 1 or h < 1 or x + w <= 0 or y + h <= 0 or x >= self.width or y >= self.height:
            return
        x_end = min(self.width, x + w)
        y_end = min(self.height, y + h)
        x = max(x, 0)
        y = max(y, 0)
        buf = self.buf
        for row in range(y, y_end):
            offset = (row >> 3) * self.stride
            mask = 1 << (row & 7)
            for i in range(offset + x, offset + x_end):
                if c:
                    buf[i] |= mask
                else:
                    buf[i] &= ~mask & 0xFF

    def fill(self, c):
        if self.height & 7 or self.stride != self.width:
            self.fill_rect(0, 0, self.width, self.height, c)
            return
        value = 0xFF if c else 0
        for i in range(self.width * self.height // 8):
            self.buf[i] = value

    def pixel(self, x, y, c=None):
        if not (0 <= x < self.width and 0 <= y < self.height):
            return None
        if c is None:
            return (self.buf[(y >> 3) * self.stride + x] >> (y & 7)) & 1
        self.fill_rect(x, y, 1, 1, c)
        return None

    def hline(self, x, y, w, c):
        self.fill_rect(x, y, w, 1, c)

    def vline(self, x, y, h, c):
        self.fill_rect(x, y, 1, h, c)

    def rect(self, x, y, w, h, c, f=False):
        if f:
            self.fill_rect(x, y, w, h, c)
            return
        self.fill_rect(x, y, w, 1, c)
        self.fill_rect(x, y + h - 1, w, 1, c)
        self.fill_rect(x, y, 1, h, c)
        self.fill_rect(x + w - 1, y, 1, h, c)


def framebuffer(width, height):
    """A MONO_VLSB frame buffer: framebuf's where it exists, this module's otherwise."""
    buf = bytearray(((height + 7) // 8) * width)
    try:
        import framebuf

        return framebuf.FrameBuffer(buf, width, height, framebuf.MONO_VLSB)
    except ImportError:
        return FrameBuffer(buf, width, height)
