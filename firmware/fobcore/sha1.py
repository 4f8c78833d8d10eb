"""Pure-Python SHA-1 (FIPS 180-4) for interpreters whose hashlib lacks it.

Several MicroPython ports (WebAssembly, SAMD51, STM32 Pyboard) ship
``hashlib`` without SHA-1, yet SHA-1 is what deployed OTP tokens use.

Every 32-bit word is kept as two 16-bit halves.  On a 32-bit MicroPython a
small int holds only 31 bits, so full words would be heap-allocated big
ints on every operation; halves stay small and allocation-free.  The
object is hashlib-compatible (``update``, ``digest``, ``copy``), and
``copy`` is what lets HMAC reuse the hashed key pads across codes.
"""

_M = 0xFFFF
_INITIAL = (0x6745, 0x2301, 0xEFCD, 0xAB89, 0x98BA, 0xDCFE, 0x1032, 0x5476, 0xC3D2, 0xE1F0)

# The message schedule: high and low halves of its 80 words.  Shared
# scratch space: compression never yields, so one pair serves every object.
_wh = [0] * 80
_wl = [0] * 80


def _compress(s, block, start):
    """Fold the 64-byte block at ``block[start:]`` into the state list ``s``."""
    wh = _wh
    wl = _wl
    j = start
    for i in range(16):
        wh[i] = (block[j] << 8) | block[j + 1]
        wl[i] = (block[j + 2] << 8) | block[j + 3]
        j += 4
    for i in range(16, 80):
        h = wh[i - 3] ^ wh[i - 8] ^ wh[i - 14] ^ wh[i - 16]
        lo = wl[i - 3] ^ wl[i - 8] ^ wl[i - 14] ^ wl[i - 16]
        wh[i] = ((h << 1) | (lo >> 15)) & 0xFFFF
        wl[i] = ((lo << 1) | (h >> 15)) & 0xFFFF
    ah, al, bh, bl, ch, cl, dh, dl, eh, el = s
    for i in range(0, 20):
        tl = (((al << 5) | (ah >> 11)) & 0xFFFF) + (dl ^ (bl & (cl ^ dl))) + el + 0x7999 + wl[i]
        th = (((ah << 5) | (al >> 11)) & 0xFFFF) + (dh ^ (bh & (ch ^ dh))) + eh + 0x5A82 + wh[i] + (tl >> 16)
        eh = dh
        el = dl
        dh = ch
        dl = cl
        ch = ((bh >> 2) | (bl << 14)) & 0xFFFF
        cl = ((bl >> 2) | (bh << 14)) & 0xFFFF
        bh = ah
        bl = al
        ah = th & 0xFFFF
        al = tl & 0xFFFF
    for i in range(20, 40):
        tl = (((al << 5) | (ah >> 11)) & 0xFFFF) + (bl ^ cl ^ dl) + el + 0xEBA1 + wl[i]
        th = (((ah << 5) | (al >> 11)) & 0xFFFF) + (bh ^ ch ^ dh) + eh + 0x6ED9 + wh[i] + (tl >> 16)
        eh = dh
        el = dl
        dh = ch
        dl = cl
        ch = ((bh >> 2) | (bl << 14)) & 0xFFFF
        cl = ((bl >> 2) | (bh << 14)) & 0xFFFF
        bh = ah
        bl = al
        ah = th & 0xFFFF
        al = tl & 0xFFFF
    for i in range(40, 60):
        tl = (((al << 5) | (ah >> 11)) & 0xFFFF) + ((bl & cl) | (dl & (bl | cl))) + el + 0xBCDC + wl[i]
        th = (((ah << 5) | (al >> 11)) & 0xFFFF) + ((bh & ch) | (dh & (bh | ch))) + eh + 0x8F1B + wh[i] + (tl >> 16)
        eh = dh
        el = dl
        dh = ch
        dl = cl
        ch = ((bh >> 2) | (bl << 14)) & 0xFFFF
        cl = ((bl >> 2) | (bh << 14)) & 0xFFFF
        bh = ah
        bl = al
        ah = th & 0xFFFF
        al = tl & 0xFFFF
    for i in range(60, 80):
        tl = (((al << 5) | (ah >> 11)) & 0xFFFF) + (bl ^ cl ^ dl) + el + 0xC1D6 + wl[i]
        th = (((ah << 5) | (al >> 11)) & 0xFFFF) + (bh ^ ch ^ dh) + eh + 0xCA62 + wh[i] + (tl >> 16)
        eh = dh
        el = dl
        dh = ch
        dl = cl
        ch = ((bh >> 2) | (bl << 14)) & 0xFFFF
        cl = ((bl >> 2) | (bh << 14)) & 0xFFFF
        bh = ah
        bl = al
        ah = th & 0xFFFF
        al = tl & 0xFFFF
    _add(s, 0, ah, al)
    _add(s, 2, bh, bl)
    _add(s, 4, ch, cl)
    _add(s, 6, dh, dl)
    _add(s, 8, eh, el)


def _add(s, i, h, lo):
    lo += s[i + 1]
    s[i] = (s[i] + h + (lo >> 16)) & _M
    s[i + 1] = lo & _M


class sha1:
    """A hashlib-style SHA-1 object."""

    digest_size = 20
    block_size = 64
    name = "sha1"

    def __init__(self, data=b""):
        self._state = list(_INITIAL)
        self._pending = b""
        self._length = 0
        if data:
            self.update(data)

    def update(self, data):
        self._length += len(data)
        data = self._pending + data
        end = len(data) - len(data) % 64
        for start in range(0, end, 64):
            _compress(self._state, data, start)
        self._pending = data[end:]

    def copy(self):
        other = sha1()
        other._state = list(self._state)
        other._pending = self._pending
        other._length = self._length
        return other

    def digest(self):
        state = list(self._state)
        tail = self._pending
        bits = self._length * 8
        padding = 64 - (len(tail) + 9) % 64
        if padding == 64:
            padding = 0
        tail = tail + b"\x80" + bytes(padding) + bits.to_bytes(8, "big")
        for start in range(0, len(tail), 64):
            _compress(state, tail, start)
        out = bytearray(20)
        for i in range(10):
            out[2 * i] = state[i] >> 8
            out[2 * i + 1] = state[i] & 0xFF
        return bytes(out)

    def hexdigest(self):
        return "".join("%02x" % b for b in self.digest())
