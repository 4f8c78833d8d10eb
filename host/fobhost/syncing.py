"""Correcting a sealed fob's clock from the desk: INFO, CHALLENGE, SYNC, then the inventory's log.

The desk proves it holds the fob's seed with a MAC over the fob's one-time
challenge (fobcore.clocksync); neither the seed nor a code crosses the
cable.  Only a fob the inventory holds is corrected, and each accepted
correction is logged there.  Anything refused changes nothing, on the fob
or in the inventory.
"""

import time

from fobcore import clocksync
from fobhost.inventory import InventoryError
from fobhost.provisioning import at_next_second
from fobhost.serialclient import DeviceError, LinkError


class SyncError(Exception):
    """The correction was not made; the message says why in one line."""


class Synced:
    """What a correction did: ``old_time`` is None when the fob's clock was lost."""

    def __init__(self, serial, old_time, new_time, forced, forced_total):
        self.serial = serial
        self.old_time = old_time
        self.new_time = new_time
        self.forced = forced
        self.forced_total = forced_total


def sync(client, inventory, who, force=False, clock=time.time):
    """Set the sealed fob behind ``client`` to host UTC, proving the inventory holds its seed."""
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

        def values_for(second):
            mac = clocksync.mac(key, token.algorithm, serial, challenge["challenge"], second, force)
            return {"time": second, "force": force, "mac": mac}

        _, reply = at_next_second(client, "SYNC", values_for, clock=clock)
    except DeviceError as error:
        raise SyncError(_refusal(serial, error)) from None
    except LinkError as error:
        raise SyncError("%s; the fob's clock may or may not have been corrected: run fob sync again" % error) from None
    inventory.record_correction(serial, reply["old"], reply["time"], who, force)
    return Synced(serial, reply["old"], reply["time"], force, reply["forced"])


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
