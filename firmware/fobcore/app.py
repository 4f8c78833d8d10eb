"""The fob's application: button, display and serial protocol around one Token.

``App`` is the whole behaviour as plain methods driven by the board's
clock, so tests step it without sleeping; fobcore.mainloop runs it.
"""

import time

import fobcore
from fobcore import render
from fobcore.board import EPOCH_OFFSET
from fobcore.token import ACTIVE, BLANK, CLOCK, CORRUPT, EXPIRED, SEALED, Token, TokenError

DISPLAY_TIMEOUT_MS = 30000
REDRAW_MS = 500  # how often a shown screen is re-checked: the bar moves every second
INFO_HOLD_MS = 3000  # holding the button this long shows the information screen
LOW_BATTERY = 10  # percent: below it the code screen carries a low-battery mark

_TITLES = {BLANK: "NO SEED", EXPIRED: "EXPIRED", CLOCK: "CLOCK", CORRUPT: "CORRUPT"}


class App:
    """What the fob shows and when; ``press``/``tick`` for the display, ``receive`` for serial."""

    def __init__(self, board, token=None, display_timeout_ms=DISPLAY_TIMEOUT_MS):
        self.board = board
        self.token = token or Token(board)
        self.display_timeout_ms = display_timeout_ms
        self.display_on = False
        self.shown = None  # the view last drawn
        self._on_since = 0
        self.info = False  # the information screen is up (until the next press or the timeout)
        self._lines = None  # the protocol is loaded at the first serial byte: a fob in a pocket never needs it
        self._handler = None

    def view(self):
        """What the display should show now, as a comparable tuple."""
        token = self.token
        if self.info:
            return ("info", token.serial or "-", _utc_text(self.board.time()), self.board.battery())
        try:
            code, left, period = token.code_now()
            battery = self.board.battery()
            return ("code", code, left, period, token.serial, battery is not None and battery < LOW_BATTERY)
        except TokenError:
            state = token.state
        if state == ACTIVE or state == SEALED:  # the clock failed one read and recovered: no code this time
            state = CLOCK
        if state == CORRUPT:
            return (state, "SEED RECORD")
        return (state, token.serial)

    def draw(self, view):
        board = self.board
        if view[0] == "code":
            render.draw_code(board.framebuffer, board.width, board.height, *view[1:])
        elif view[0] == "info":
            battery = "BAT -" if view[3] is None else "BAT %d%%" % view[3]
            lines = ("SN " + view[1], view[2], battery, "FW " + fobcore.VERSION)
            render.draw_lines(board.framebuffer, board.width, board.height, lines)
        else:
            render.draw_message(board.framebuffer, board.width, board.height, _TITLES[view[0]], view[1])
        board.show()
        self.shown = view

    def press(self):
        """The button: show the current screen and restart the display timeout."""
        self._on_since = self.board.ticks_ms()
        self.info = False
        if not self.display_on:
            self.board.display_power(True)
            self.display_on = True
        self.draw(self.view())

    def tick(self):
        """Redraw if the view changed; turn the display off after the timeout.

        Returns the milliseconds until the next tick is needed, or None when
        the display is off and only the button can wake the fob.
        """
        if not self.display_on:
            return None
        remaining = self.display_timeout_ms - self.board.ticks_diff(self.board.ticks_ms(), self._on_since)
        if remaining <= 0:
            self.board.display_power(False)
            self.display_on = False
            self.shown = None
            self.info = False
            return None
        held = self.board.ticks_diff(self.board.ticks_ms(), self._on_since)
        if not self.info and held >= INFO_HOLD_MS and self.board.button_down():
            self.info = True  # held since the press (a release and a new press would have restarted it)
        view = self.view()
        if view != self.shown:
            self.draw(view)
        return min(REDRAW_MS, remaining)

    def receive(self, data):
        """Feed bytes from the serial stream; write one reply per complete line."""
        if self._lines is None:
            from fobcore import protocol, wire

            self._lines = wire.LineAssembler(wire.MAX_LINE)
            self._handler = protocol.DeviceHandler(self.token)
        for line in self._lines.feed(data):
            self.board.write_serial(self._handler.handle(line))


def _utc_text(unix):
    if unix is None:
        return "TIME -"
    t = time.gmtime(unix - EPOCH_OFFSET)
    return "%04d-%02d-%02d %02d:%02d:%02d" % (t[0], t[1], t[2], t[3], t[4], t[5])
