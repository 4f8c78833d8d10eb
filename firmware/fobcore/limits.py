"""The value limits of a fob, in one place: the token, its record, the protocol and the host all check these.

A number here is a promise on the wire (docs/protocol.md) as much as a
rule of the token, so the host refuses an out-of-range value before it
sends it, with the same bounds the fob would refuse it with.
"""

# A clock before the firmware was built, or after 2100, is not believed.
MIN_TIME = 1767225600  # 2026-01-01T00:00:00Z
MAX_TIME = 4102444800  # 2100-01-01T00:00:00Z (exclusive)
MIN_PERIOD = 1
MAX_PERIOD = 3600  # seconds per time step
MIN_DIGITS = 6
MAX_DIGITS = 10
MIN_SERIAL = 8  # digits printed on the back of a fob
MAX_SERIAL = 12
MIN_SEED = 16  # bytes
MAX_SEED = 64
MAX_VALID_YEARS = 30  # how far ahead the host sets a fob's expiry
MAX_SYNC_STEPS = 10  # time steps an unforced clock correction of a sealed fob may move it
MIN_AGING = -128  # a DS3231's aging offset register, signed
MAX_AGING = 127


def is_serial(text):
    """True for MIN_SERIAL to MAX_SERIAL ASCII digits."""
    if not isinstance(text, str) or not MIN_SERIAL <= len(text) <= MAX_SERIAL:
        return False
    for ch in text:
        if not "0" <= ch <= "9":
            return False
    return True
