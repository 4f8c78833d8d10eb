"""Hash constructors: the interpreter's hashlib first, pure Python SHA-1 second."""

try:
    import hashlib
except ImportError:  # a port built without hashlib at all
    hashlib = None

ALGORITHMS = ("sha1", "sha256", "sha512")
_BLOCK_SIZES = {"sha1": 64, "sha256": 64, "sha512": 128}


class UnsupportedAlgorithm(ValueError):
    """The algorithm is unknown, or this interpreter cannot compute it."""


def _native(name):
    return getattr(hashlib, name, None) if hashlib else None


def constructor(name):
    """Return a callable making a new hash object for ``name``.

    hashlib's own implementation wins when present; SHA-1 falls back to the
    pure-Python one.  Anything else raises UnsupportedAlgorithm naming it.
    """
    if name not in _BLOCK_SIZES:
        raise UnsupportedAlgorithm("unknown algorithm '%s' (known: %s)" % (name, ", ".join(ALGORITHMS)))
    native = _native(name)
    if native is not None:
        return native
    if name == "sha1":
        from fobcore import sha1  # loaded only where needed: its code would take 2.6 KB of heap

        return sha1.sha1
    raise UnsupportedAlgorithm(
        "algorithm '%s' is not available on this interpreter (supported: %s)" % (name, ", ".join(supported()))
    )


def block_size(name):
    """HMAC block size in bytes for ``name`` (MicroPython objects lack the attribute)."""
    return _BLOCK_SIZES[name]


def supported():
    """The algorithms this interpreter can compute, in canonical order."""
    return tuple(n for n in ALGORITHMS if n == "sha1" or _native(n) is not None)
