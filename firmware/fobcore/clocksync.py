"""The proof of an authenticated clock correction, computed alike by the fob and the desk.

The desk proves it holds the fob's seed without sending it, and without
the proof being anything the fob would ever display: the MAC key is
derived from the seed for this purpose only (HMAC(seed, LABEL), with the
fob's own algorithm), and the MAC covers the serial number, the fob's
one-time challenge, the new time, the force flag and any new aging trim.  docs/protocol.md
has the threat model.
"""

from fobcore.hmac import Hmac

LABEL = b"fobkit clock-sync v1"
CHALLENGE_BYTES = 16


def key(seed, algorithm):
    """The clock-correction key of a fob: never the seed itself, never a code."""
    return Hmac(seed, algorithm).digest(LABEL)


def message(serial, challenge, new_time, force, aging=None):
    """The bytes a correction's MAC covers (``aging``: a new aging trim, or None to leave it)."""
    hexed = "".join("%02x" % b for b in challenge)
    trim = "-" if aging is None else "%d" % aging
    mode = "force" if force else "bounded"
    return ("%s\n%s\n%s\n%d\n%s\n%s" % (LABEL.decode(), serial, hexed, new_time, mode, trim)).encode()


def mac(sync_key, algorithm, serial, challenge, new_time, force, aging=None):
    return Hmac(sync_key, algorithm).digest(message(serial, challenge, new_time, force, aging))


def equal(a, b):
    """``a == b`` for two byte strings, in time that depends only on their lengths."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0
