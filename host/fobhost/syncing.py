"""Correcting a sealed fob's clock from the desk: INFO, CHALLENGE, SYNC, then the inventory's log.

The desk proves it holds the fob's seed with a MAC over the fob's one-time
challenge (fobcore.clocksync); neither the seed nor a code crosses the
cable.  Only a fob the inventory holds is corrected, and each accepted
correction is logged there.  Anything refused changes nothing, on the fob
or in the inventory.
"""

import time

from fobcore import clocksync, limits
from fobhost.inventory import InventoryError
from fobhost.provisioning import at_next_second
from fobhost.serialclient import DeviceError, LinkError

# A DS3231's aging offset moves its frequency by about 0.1 ppm per step at 25 degrees C (datasheet).
PPM_PER_AGING_STEP = 0.1
# Two corrections this far apart measure drift to a few hundredths of a ppm.
MIN_TRIM_DAYS = 2
_EDGE_TIMEOUT = 2.5


class SyncError(Exception):
    """The correction was not made; the message says why in one line."""


class Synced:
    """What a correction did: ``old_time`` is None when the fob's clock was lost."""

    def __init__(self, serial, old_time, new_time, forced, forced_total, aging=None, ppm=None):
        self.serial = serial
        self.old_time = old_time
        self.new_time = new_time
        self.forced = forced
        self.forced_total = forced_total
        self.aging = aging  # (old trim, new trim) when trimmed
        self.ppm = ppm  # the drift measured since the last correction, when trimmed


def sync(client, inventory, who, force=False, trim=False, clock=time.time):
    """Set the sealed fob behind ``client`` to host UTC, proving the inventory holds its seed; with ``trim``,
    also set its DS3231's aging trim from the drift since the last logged correction."""
    try:
        info = client.request("INFO")
    except (DeviceError, LinkError) as error:
        raise SyncError(str(error)) from None
    serial = info["serial"]
    if not serial or info["state"] == "BLANK":
        raise SyncError("the fob has no seed: there is no clock to correct (fob provision sets one)")
    if not info["sealed"]:
        raise SyncError(
            "fob %s is not sealed (state %s): its clock is set by fob provision, not corrected"
            % (serial, info["state"])
        )
    if not inventory.contains(serial):
        raise SyncError(
            "fob %s is not in the inventory %s: only its own desk can correct its clock" % (serial, inventory.path)
        )
    try:
        seed = inventory.seed(serial)
        [token] = inventory.tokens([serial])
    except InventoryError as error:
        raise SyncError(str(error)) from None
    key = clocksync.key(seed, token.algorithm)
    try:
        challenge = client.request("CHALLENGE")
        if challenge["serial"] != serial or not challenge["challenge"]:
            raise SyncError("fob %s answered the challenge for another serial number" % serial)
        aging, ppm = _trim(client, inventory, serial, challenge["aging"], clock) if trim else (None, None)

        def values_for(second):
            mac = clocksync.mac(key, token.algorithm, serial, challenge["challenge"], second, force, aging)
            return {"time": second, "force": force, "aging": aging, "mac": mac}

        _, reply = at_next_second(client, "SYNC", values_for, clock=clock)
    except DeviceError as error:
        raise SyncError(_refusal(serial, error)) from None
    except LinkError as error:
        raise SyncError("%s; the fob's clock may or may not have been corrected: run fob sync again" % error) from None
    inventory.record_correction(serial, reply["old"], reply["time"], who, force, aging)
    trimmed = None if aging is None else (challenge["aging"], reply["aging"])
    return Synced(serial, reply["old"], reply["time"], force, reply["forced"], trimmed, ppm)


def _trim(client, inventory, serial, current, clock):
    """(new aging trim, measured ppm): the fob's offset now over the time since the last correction set it."""
    if current is None:
        raise SyncError("fob %s has no aging trim (no DS3231): --trim does not apply" % serial)
    log = inventory.corrections(serial)
    offset, now = _offset(client, clock)
    if not log or now - log[-1].new_time < MIN_TRIM_DAYS * 86400:
        raise SyncError(
            "--trim measures the drift since the last correction, which must be at least %d days ago" % MIN_TRIM_DAYS
        )
    ppm = offset / (now - log[-1].new_time) * 1e6  # the last correction set it right, aimed at a second boundary
    aging = max(limits.MIN_AGING, min(limits.MAX_AGING, current + round(ppm / PPM_PER_AGING_STEP)))
    return aging, ppm


def offset(info, received, round_trip):
    """(the fob's clock minus the host's in seconds, whether to the millisecond) from an INFO reply.

    The fob read its clock about half a round trip before its reply arrived
    (host time ``received``).  A fob that reports milliseconds (INFO ``ms``)
    gives the offset to the millisecond, plus the link's asymmetry; one that
    counts whole seconds only to the second.
    """
    host = received - (round_trip or 0.0) / 2
    if info["ms"] is not None:
        return info["time"] + info["ms"] / 1000 - host, True
    return round(info["time"] + 0.5 - host), False  # somewhere in the second it reported


def _offset(client, clock):
    """(fob minus host time, host time) to a few milliseconds: from INFO's ``ms`` where the fob has it, else by
    asking INFO until the fob's second ticks over."""
    info = client.request("INFO")
    received = clock()
    if info["time"] is None:
        raise SyncError("the fob's clock was lost: correct it first, then trim at a later correction")
    if info["ms"] is not None:
        return offset(info, received, client.round_trip)[0], received
    second, deadline = info["time"], received + _EDGE_TIMEOUT
    while clock() < deadline:
        before = received
        info = client.request("INFO")
        received = clock()
        if info["time"] is not None and info["time"] > second:  # it ticked between the two readings
            edge = (before + received) / 2 - client.round_trip / 2
            return info["time"] - edge, received
    raise SyncError("the fob's clock did not tick within %.1f s" % _EDGE_TIMEOUT)


def _refusal(serial, error):
    if error.code == "denied":
        return "fob %s refused the proof: the inventory's seed for %s is not the one on this fob; nothing changed" % (
            serial,
            serial,
        )
    if error.code == "bounds":
        return "fob %s refused the correction (%s); --force applies it anyway, and the fob counts it" % (
            serial,
            error.message,
        )
    return str(error)
