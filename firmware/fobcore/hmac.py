"""HMAC (RFC 2104) over fobcore.hashes, with the key pads hashed once.

A token computes many MACs with one key.  When the hash object can be
copied (CPython's hashlib, fobcore's pure SHA-1) the state after the inner
and outer key pads is kept and copied per message, halving the compression
work of a short message.  MicroPython's native hash objects cannot be
copied; for them the pads are re-hashed per message.
"""

from fobcore import hashes


class Hmac:
    """A MAC key bound to one algorithm; ``digest(msg)`` may be called often."""

    def __init__(self, key, algorithm="sha1"):
        new = hashes.constructor(algorithm)
        size = hashes.block_size(algorithm)
        if len(key) > size:
            key = new(key).digest()
        key = key + bytes(size - len(key))
        self._new = new
        self._ipad = bytes(b ^ 0x36 for b in key)
        self._opad = bytes(b ^ 0x5C for b in key)
        inner = new(self._ipad)
        if hasattr(inner, "copy"):
            self._inner = inner
            self._outer = new(self._opad)
        else:
            self._inner = self._outer = None

    def digest(self, msg):
        if self._inner is None:
            inner = self._new(self._ipad)
            inner.update(msg)
            outer = self._new(self._opad)
        else:
            inner = self._inner.copy()
            inner.update(msg)
            outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()
