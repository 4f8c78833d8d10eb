"""Base32 (RFC 4648) for OTP seeds, as people type them.

Decoding is case-insensitive, ignores spaces and dashes and accepts the
text with or without ``=`` padding.  Errors never quote the text: it is a
secret.
"""

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# Characters left over in the last 8-character group: only these counts
# encode whole bytes (1, 2, 3, 4 bytes).
_TAIL_BYTES = {0: 0, 2: 1, 4: 2, 5: 3, 7: 4}


class Base32Error(ValueError):
    """The text is not base32."""


def decode(text):
    """Bytes encoded by ``text``; raises Base32Error without quoting it."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = text.decode()
        except UnicodeError:
            raise Base32Error("not base32: not ASCII text") from None
    digits = []
    position = 0
    padding = False
    for ch in text:
        position += 1
        if ch in " -\t":
            continue
        if ch == "=":
            padding = True
            continue
        upper = ch.upper()
        value = _ALPHABET.find(upper) if len(upper) == 1 else -1
        if value < 0:
            raise Base32Error("not base32: invalid character at position %d (allowed: A-Z, 2-7)" % position)
        if padding:
            raise Base32Error("not base32: '=' padding before the end at position %d" % position)
        digits.append(value)
    tail = len(digits) % 8
    if tail not in _TAIL_BYTES:
        raise Base32Error("not base32: %d characters cannot encode whole bytes" % len(digits))
    out = bytearray()
    acc = 0
    bits = 0
    for value in digits:
        acc = (acc << 5) | value
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append(acc >> bits)
            acc &= (1 << bits) - 1
    return bytes(out)


def encode(data, padding=True):
    """Base32 text of ``data``: upper case, ``=``-padded unless told not to."""
    out = []
    acc = 0
    bits = 0
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append(_ALPHABET[(acc >> bits) & 31])
        acc &= (1 << bits) - 1
    if bits:
        out.append(_ALPHABET[(acc << (5 - bits)) & 31])
    if padding:
        out.append("=" * (-len(out) % 8))
    return "".join(out)
