"""Provisioning one fob: INFO, SET-TIME, PROVISION, CHECK, SEAL, then the inventory record.

The record is written only after SEAL succeeded.  A failure at any step
wipes the device (so it is BLANK again) and leaves the inventory as it
was; the error names the step.  A device found sealed is refused and left
untouched: it may be somebody's working token.
"""

import base64
import calendar
import secrets
import time

import pyotp

from fobcore import base32, protocol
from fobhost import serials
from fobhost.inventory import InventoryError
from fobhost.serialclient import DeviceError, LinkError

# RFC 6238 reference keys: as long as the hash output.
SEED_BYTES = {"sha1": 20, "sha256": 32, "sha512": 64}
STEPS = ("INFO", "SET-TIME", "PROVISION", "CHECK", "SEAL", "RECORD")
_SEED_SENT = STEPS[2:]  # from PROVISION on, the device may hold the new seed
# The device's clock is set to whole seconds, so it may lag the host's by up to one.
CLOCK_SLACK = 1


class ProvisioningError(Exception):
    """Provisioning stopped at ``step``; ``wiped`` says whether the device is BLANK again.

    ``interrupted`` is true when a Ctrl-C stopped it (`fob` then exits 130).
    """

    def __init__(self, step, reason, wiped, interrupted=False):
        if wiped is None:
            outcome = "the device was left untouched"
        elif wiped:
            outcome = "the device was wiped"
        elif step in _SEED_SENT:
            outcome = (
                "the device could NOT be wiped and may hold a seed that no inventory holds:"
                " run `fob wipe` on it before it leaves the desk"
            )
        else:
            outcome = "the device could NOT be wiped: run `fob wipe` on it before reuse"
        super().__init__("step %s failed: %s; %s; the inventory is unchanged" % (step, reason, outcome))
        self.step = step
        self.wiped = wiped
        self.interrupted = interrupted


class Provisioned:
    """What was recorded for one fob (no seed)."""

    def __init__(self, serial, algorithm, digits, period, expiry):
        self.serial = serial
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.expiry = expiry


def expiry_after(unix_time, years):
    """The same UTC date and time ``years`` later (29 February becomes 28 February)."""
    t = time.gmtime(unix_time)
    year = t.tm_year + years
    day = min(t.tm_mday, calendar.monthrange(year, t.tm_mon)[1])
    return calendar.timegm((year, t.tm_mon, day, t.tm_hour, t.tm_min, t.tm_sec))


def host_codes(seed, algorithm, digits, period, start, end):
    """pyotp's codes for every step from Unix time ``start`` to ``end``: the independent check."""
    hotp = pyotp.HOTP(base64.b32encode(seed).decode(), digits=digits, digest=algorithm)
    return {hotp.at(step) for step in range(int(start) // period, int(end) // period + 1)}


def check_device(info):
    """Raise ValueError with the reason if ``info`` (INFO reply) is a device we must not provision."""
    if info.get("proto") != str(protocol.PROTOCOL_VERSION):
        raise ValueError("the device speaks protocol %s, not %d" % (info.get("proto"), protocol.PROTOCOL_VERSION))
    state = info.get("state")
    if info.get("sealed") == "yes" and state != "SEALED":
        state = "SEALED (showing %s)" % state  # e.g. a sealed fob whose clock was lost
    if state.startswith("SEALED") or state == "EXPIRED":
        raise ValueError(
            "the device %s is %s already; wipe it first (fob wipe) if it is really to be reused"
            % (info.get("serial"), state)
        )


def provision(client, inventory, algorithm="sha1", digits=6, period=60, valid_years=5, serial=None, clock=time.time):
    """Provision, check, seal and record the fob behind ``client``; return a Provisioned."""
    try:
        info = client.request("INFO")
        check_device(info)
        if algorithm not in info.get("alg", "").split(","):
            raise ValueError("the device cannot compute %s (it offers %s)" % (algorithm, info.get("alg")))
    except (DeviceError, LinkError, ValueError) as error:
        raise ProvisioningError("INFO", error, None) from None
    try:
        serial = serial or inventory.next_serial()
    except InventoryError as error:
        raise ProvisioningError("INFO", error, None) from None
    if not serials.is_serial(serial):
        raise ProvisioningError("INFO", "serial number must be 8 to 12 digits", None)
    if inventory.contains(serial):
        raise ProvisioningError("INFO", "serial number %s is already in the inventory" % serial, None)

    seed = secrets.token_bytes(SEED_BYTES[algorithm])
    step = "SET-TIME"
    try:
        now = int(clock())
        client.request("SET-TIME", (("time", now),))
        expiry = expiry_after(now, valid_years)
        step = "PROVISION"
        fields = (
            ("seed", base32.encode(seed, padding=False)),
            ("alg", algorithm),
            ("digits", digits),
            ("period", period),
            ("serial", serial),
            ("expiry", expiry),
        )
        client.request("PROVISION", fields)
        step = "CHECK"
        start = clock()
        code = client.request("CHECK").get("code")
        if code not in host_codes(seed, algorithm, digits, period, start - CLOCK_SLACK, clock() + CLOCK_SLACK):
            raise ValueError("the device's code does not match the host's")
        step = "SEAL"
        if client.request("SEAL").get("state") != "SEALED":
            raise ValueError("the device did not report SEALED")
        step = "RECORD"
        inventory.record(serial, seed, algorithm, digits, period, expiry, info.get("board", "?"), info.get("fw", "?"))
    except KeyboardInterrupt:
        if step == "RECORD" and inventory.contains(serial):
            raise  # it landed after the record was committed: the fob is done, sealed and recorded
        raise ProvisioningError(step, "interrupted", _wipe(client), interrupted=True) from None
    except DeviceError as error:
        if error.code == "sealed":  # sealed before we came: INFO says CLOCK, not SEALED, when its clock is lost
            raise ProvisioningError(step, _describe(error), None) from None
        raise ProvisioningError(step, _describe(error), _wipe(client)) from None
    except Exception as error:
        raise ProvisioningError(step, _describe(error), _wipe(client)) from None
    return Provisioned(serial, algorithm, digits, period, expiry)


def _describe(error):
    """The reason for a failure, in words that never include a frame or a seed."""
    if isinstance(error, (DeviceError, LinkError, ValueError)) or type(error).__module__.startswith("fobhost"):
        return str(error)
    return type(error).__name__


def _wipe(client):
    """True once the device is BLANK again; a Ctrl-C during the wipe (a second one) gives up on it."""
    try:
        client.request("WIPE")
    except (DeviceError, LinkError, KeyboardInterrupt):
        return False
    return True
