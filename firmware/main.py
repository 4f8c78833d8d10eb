"""The fob's entry point on a board: the board's driver, the token, the app, for ever.

Ctrl-C is switched off first; Token switches it back on unless the fob is
sealed.  Should the app ever stop on a sealed fob (or one whose record
cannot be read), the board resets rather than fall through to a REPL
that could read the seed file.
"""

import micropython

micropython.kbd_intr(-1)

import asyncio  # noqa: E402

import board  # noqa: E402  (boards/<name>/board.py, installed as /lib/board.py)
import machine  # noqa: E402
from fobcore.app import App  # noqa: E402
from fobcore.board import Board  # noqa: E402
from fobcore.mainloop import serve  # noqa: E402
from fobcore.record import Store  # noqa: E402


def _may_open_repl(storage_dir):
    try:
        record = Store(storage_dir).load()
    except Exception:
        return False
    return record is None or not record.sealed


hardware = None
try:
    hardware = board.create()
    asyncio.run(serve(App(hardware, display_timeout_ms=board.DISPLAY_TIMEOUT_MS)))
finally:
    if not _may_open_repl((hardware or Board()).storage_dir()):
        machine.reset()
    micropython.kbd_intr(3)
