"""Headless display: the fob's screen in block characters, redrawn in place, as wide as the terminal allows.

One character per pixel column when the terminal is wide enough (130
columns for the 128-pixel panel), else two pixels per character (66
columns), so an 80x24 terminal never wraps and scrolls; the status line is
cut to the width too.
"""

import os

from fobsim import screen


class TerminalView:
    def __init__(self, stream, ansi=True, columns=None):
        self._stream = stream
        self._ansi = ansi
        self._columns = columns
        self._drawn_lines = 0
        self._rows = None
        self._status = ""

    def post_frame(self, rows):
        self._rows = rows
        self._draw()

    def post_status(self, text):
        self._status = text
        self._draw()

    def _width(self):
        if self._columns is not None:
            return self._columns
        try:
            return os.get_terminal_size(self._stream.fileno()).columns
        except (AttributeError, OSError, ValueError):  # not a terminal: nothing wraps
            return 1 << 16

    def _draw(self):
        if self._rows is None:
            return
        columns = self._width()
        full = len(self._rows[0]) + 2 <= columns
        text = screen.to_text(self._rows) if full else screen.to_quadrants(self._rows)
        inner = text.split("\n")
        border = "+" + "-" * len(inner[0]) + "+"
        lines = [border] + ["|" + line + "|" for line in inner] + [border]
        lines.append(self._status[: max(columns - 1, 0)])
        out = []
        if self._ansi and self._drawn_lines:
            out.append("\x1b[%dF" % self._drawn_lines)  # back to the first line drawn
        out.extend(line + ("\x1b[K" if self._ansi else "") + "\n" for line in lines)
        self._stream.write("".join(out))
        self._stream.flush()
        self._drawn_lines = len(lines)
