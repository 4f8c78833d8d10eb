"""UTC dates and times as `fob` prints them, for any number a fob or an inventory may hold.

A fob's reply fields carry up to 12 digits and an inventory any SQLite
integer; the host's gmtime stops far earlier on some (year 2038 where
time_t is 32 bits, about year 2**31 elsewhere).  Such a number is shown
as itself, said not to be a valid time, and never raises.
"""

import time

DATE = "%Y-%m-%d"
DATE_TIME = "%Y-%m-%d %H:%M:%S UTC"


def text(seconds, layout=DATE_TIME, unset="-"):
    """``seconds`` since the epoch in UTC as ``layout`` (time.strftime); ``unset`` for None."""
    if seconds is None:
        return unset
    try:
        return time.strftime(layout, time.gmtime(seconds))
    except (OverflowError, ValueError, OSError):  # beyond what the host's calendar can show
        return "%s (not a valid time)" % seconds
