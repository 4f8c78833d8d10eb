"""Drawing the token's screens into a MONO_VLSB frame buffer.

Only fill and fill_rect are used, so MicroPython's framebuf and
fobcore.monofb produce the same bytes.  Text is fobcore's own 5x7 font,
scaled up for the code.
"""

from fobcore import glyphs

BAR_HEIGHT = 2


def text_width(text, scale=1):
    """Width in pixels of ``text`` drawn at ``scale`` (one blank column between characters)."""
    return len(text) * (glyphs.WIDTH + 1) * scale - scale if text else 0


def draw_text(fb, text, x, y, scale=1):
    """Draw ``text`` with its top-left corner at (x, y), each font pixel ``scale`` pixels square."""
    for char in text:
        for column in glyphs.columns(char):
            row = 0
            while column:
                if column & 1:
                    start = row
                    while column & 1:
                        column >>= 1
                        row += 1
                    fb.fill_rect(x, y + start * scale, scale, (row - start) * scale, 1)
                else:
                    column >>= 1
                    row += 1
            x += scale
        x += scale


def _centred(fb, width, text, y, scale):
    draw_text(fb, text, (width - text_width(text, scale)) // 2, y, scale)


def code_scale(width, digits):
    """The largest scale (3, 2 or 1) at which ``digits`` characters fit in ``width``."""
    for scale in (3, 2):
        if text_width("0" * digits, scale) <= width:
            return scale
    return 1


def draw_code(fb, width, height, code, seconds_left, period, serial, low_battery=False):
    """The code in large digits, a bar shrinking over the step, the serial number below (and LOW at its right
    when the battery is nearly empty)."""
    scale = code_scale(width, len(code))
    code_height = glyphs.HEIGHT * scale
    top = max(0, (height - (code_height + BAR_HEIGHT + 2 + glyphs.HEIGHT + 2)) // 2)
    fb.fill(0)
    _centred(fb, width, code, top, scale)
    bar_y = top + code_height + 1
    fb.fill_rect(0, bar_y, width * seconds_left // period, BAR_HEIGHT, 1)
    _centred(fb, width, serial, bar_y + BAR_HEIGHT + 1, 1)
    if low_battery:
        draw_text(fb, "LOW", width - text_width("LOW"), bar_y + BAR_HEIGHT + 1)


def draw_lines(fb, width, height, lines):
    """Lines of small text from the top, one per 8 pixels (the information screen)."""
    fb.fill(0)
    for i, line in enumerate(lines[: height // (glyphs.HEIGHT + 1)]):
        draw_text(fb, line, 0, i * (glyphs.HEIGHT + 1))


def draw_message(fb, width, height, title, subtitle):
    """A state's name in double-size letters, a detail line (e.g. the serial number) below."""
    block = glyphs.HEIGHT * 2 + (glyphs.HEIGHT + 3 if subtitle else 0)
    top = max(0, (height - block) // 2)
    fb.fill(0)
    _centred(fb, width, title, top, 2)
    if subtitle:
        _centred(fb, width, subtitle, top + glyphs.HEIGHT * 2 + 3, 1)
