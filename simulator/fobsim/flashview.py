"""The MicroPython VM's flash and frames read through CPython: what the fob shows, and its state.

The VM draws into its own framebuffer; to say which code a frame shows,
the firmware's own App renders from the same flash under CPython and the
two buffers are compared pixel for pixel.
"""

from pathlib import Path

from fobcore.app import App
from fobcore.board import Board
from fobcore.monofb import FrameBuffer
from fobcore.token import Token


class _FlashMirror(Board):
    """The VM's flash and clock seen from CPython: the firmware's own App renders what the fob should show."""

    name = "sim"

    def __init__(self, flash, width, height):
        self.width = width
        self.height = height
        self.framebuffer = FrameBuffer(bytearray(width * height // 8), width, height)
        self._storage = str(Path(flash) / "data")  # the board's /data
        self.now = None

    def storage_dir(self):
        return self._storage

    def time(self):
        return self.now

    def show(self):
        pass

    def display_power(self, on):
        pass


def read_display(frame, flash, fob_time, width=128, height=32):
    """The App view that the VM's ``frame`` shows, or None if it is no view CPython would draw.

    The fob's record is read from the host side of its flash and its view
    rendered by the firmware's App under CPython, for the seconds around
    ``fob_time`` (a frame is drawn a moment before the host reads it); a
    match means the VM drew, pixel for pixel, what CPython draws.
    """
    mirror = _FlashMirror(flash, width, height)
    app = App(mirror)
    whole = int(fob_time)
    for app.info in (False, True):  # the code or state screen, or the information screen of a long press
        for mirror.now in (whole, whole - 1, whole + 1, whole - 2):
            view = app.view()
            app.draw(view)
            if bytes(mirror.framebuffer.buf) == frame:
                return view
    return None


def token_state(flash, fob_time):
    """(state, serial) of the token whose flash is ``flash``, as the firmware sees it at ``fob_time``."""
    mirror = _FlashMirror(flash, 128, 32)
    mirror.now = None if fob_time is None else int(fob_time)
    token = Token(mirror)
    return token.state, token.serial
