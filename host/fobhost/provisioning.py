"""Provisioning one fob: INFO, SET-TIME, PROVISION, CHECK, SEAL, then the inventory record.

The record is written only after SEAL succeeded.  A failure at any step
wipes the device (so it is BLANK again) and leaves the inventory as it
was; the error names the step.  A device found sealed is refused and left
untouched: it may be somebody's working token.
"""

import base64
import calendar
import math
import secrets
import time

import pyotp

from fobcore import base32, limits, wire
from fobhost.inventory import InventoryError
from fobhost.serialclient import DeviceError, LinkError

# RFC 6238 reference keys: as long as the hash output.
SEED_BYTES = {"sha1": 20, "sha256": 32, "sha512": 64}
STEPS = ("INFO", "SET-TIME", "PROVISION", "CHECK", "SEAL", "RECORD")
_SEED_SENT = STEPS[2:]  # from PROVISION on, the device may hold the new seed
# Codes are compared over the steps of this many seconds either side of the CHECK, for the round trip.
CLOCK_SLACK = 1
# The longest one-way delay assumed when aiming SET-TIME at a second boundary.
MAX_LEAD = 0.25


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
    """Raise ValueError with the reason if ``info`` (INFO reply values) is a device we must not provision."""
    if info["proto"] != wire.PROTOCOL_VERSION:
        raise ValueError("the device speaks protocol %s, not %d" % (info["proto"], wire.PROTOCOL_VERSION))
    state = info["state"]
    if state is None:
        raise ValueError("the device did not say what state it is in")
    if info["sealed"] and state != "SEALED":
        state = "SEALED (showing %s)" % state  # e.g. a sealed fob whose clock was lost
    if state.startswith("SEALED") or state == "EXPIRED":
        raise ValueError(
            "the device %s is %s already; wipe it first (fob wipe) if it is really to be reused"
            % (info["serial"] or "-", state)
        )


def at_next_second(client, command, values_for, clock=time.time, sleep=time.sleep):
    """Send ``command`` with the values ``values_for(second)`` gives for the next whole second of host
    UTC, timed to arrive as that second begins; return (that second, the device's reply).

    A fob's clock counts whole seconds from the moment it is set (a DS3231 restarts its countdown chain
    when its seconds register is written), so a whole second set on time leaves it in step with the host
    to within the delay of the link.  Half the fastest round trip stands in for that delay, after one
    more INFO: the first request to a fob may be slow (a board loads its protocol code at the first byte).
    """
    client.request("INFO")
    lead = min(client.fastest_round_trip / 2, MAX_LEAD)
    target = math.floor(clock() + lead) + 1
    values = values_for(target)
    delay = target - lead - clock()
    if delay > 0:
        sleep(delay)
    return target, client.request(command, values)


def provision(
    client,
    inventory,
    algorithm="sha1",
    digits=6,
    period=60,
    valid_years=5,
    serial=None,
    clock=time.time,
    sleep=time.sleep,
):
    """Provision, check, seal and record the fob behind ``client``; return a Provisioned."""
    try:
        info = client.request("INFO")
        check_device(info)
        offered = info["alg"] or []
        if algorithm not in offered:
            raise ValueError("the device cannot compute %s (it offers %s)" % (algorithm, ",".join(offered) or "none"))
    except (DeviceError, LinkError, ValueError) as error:
        raise ProvisioningError("INFO", error, None) from None
    try:
        serial = serial or inventory.next_serial()
    except InventoryError as error:
        raise ProvisioningError("INFO", error, None) from None
    if not limits.is_serial(serial):
        raise ProvisioningError(
            "INFO", "serial number must be %d to %d digits" % (limits.MIN_SERIAL, limits.MAX_SERIAL), None
        )
    if inventory.contains(serial):
        raise ProvisioningError("INFO", "serial number %s is already in the inventory" % serial, None)

    seed = secrets.token_bytes(SEED_BYTES[algorithm])
    step = "SET-TIME"
    try:
        now, _ = at_next_second(client, "SET-TIME", lambda second: {"time": second}, clock=clock, sleep=sleep)
        expiry = expiry_after(now, valid_years)
        step = "PROVISION"
        fields = {
            "seed": base32.encode(seed, padding=False),
            "alg": algorithm,
            "digits": digits,
            "period": period,
            "serial": serial,
            "expiry": expiry,
        }
        client.request("PROVISION", fields)
        step = "CHECK"
        start = clock()
        code = client.request("CHECK")["code"]
        if code not in host_codes(seed, algorithm, digits, period, start - CLOCK_SLACK, clock() + CLOCK_SLACK):
            raise ValueError("the device's code does not match the host's")
        step = "SEAL"
        if client.request("SEAL")["state"] != "SEALED":
            raise ValueError("the device did not report SEALED")
        step = "RECORD"
        inventory.record(serial, seed, algorithm, digits, period, expiry, info["board"] or "?", info["fw"] or "?")
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
