"""Headless display: the fob's screen in block characters, redrawn in place."""

from fobsim import screen


class TerminalView:
    def __init__(self, stream, ansi=True):
        self._stream = stream
        self._ansi = ansi
        self._drawn_lines = 0
        self._rows = None
        self._status = ""

    def post_frame(self, rows):
        self._rows = rows
        self._draw()

    def post_status(self, text):
        self._status = text
        self._draw()

    def _draw(self):
        if self._rows is None:
            return
        width = len(self._rows[0])
        border = "+" + "-" * width + "+"
        lines = [border] + ["|" + line + "|" for line in screen.to_text(self._rows).split("\n")] + [border]
        lines.append(self._status)
        out = []
        if self._ansi and self._drawn_lines:
            out.append("\x1b[%dF" % self._drawn_lines)  # back to the first line drawn
        out.extend(line + ("\x1b[K" if self._ansi else "") + "\n" for line in lines)
        self._stream.write("".join(out))
        self._stream.flush()
        self._drawn_lines = len(lines)
