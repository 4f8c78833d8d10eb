"""One-time challenges that never repeat, though a port's random source may be weak.

The port's os.urandom is hashed with the board's clock, its ticks and a count.
esp32's is esp_random (ports/esp32/modos.c mp_os_urandom), which ESP-IDF calls
pseudo-random only while neither Wi-Fi nor Bluetooth runs (its "Random Number
Generation" guide), as on a fob; rp2's takes ring-oscillator bits
(ports/rp2/modos.c, main.c rosc_random_u8).  The webassembly port has no
os.urandom: its boards give their own random_bytes.
"""

import os

from fobcore import hashes

_drawn = 0  # challenges made since the boot


def fresh(board, count):
    """``count`` (at most 32) bytes for a challenge from ``board`` (a fobcore.board.Board)."""
    global _drawn
    _drawn += 1
    mixed = hashes.constructor("sha256")(os.urandom(32))
    mixed.update(("%s %d %d" % (board.time(), board.ticks_ms(), _drawn)).encode())
    return mixed.digest()[:count]
