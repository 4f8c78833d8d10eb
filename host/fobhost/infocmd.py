"""`fob info`: what a fob says about itself (never its seed: no command returns it)."""

import time

from fobhost import cliopts, syncing, utc
from fobhost.errors import UsageError
from fobhost.serialclient import DeviceError, LinkError


def register(subparsers):
    parser = subparsers.add_parser(
        "info",
        help="show a fob's serial number, state, versions and clock",
        description="Ask the fob on --port for its serial number, state, firmware and protocol versions and clock.",
    )
    cliopts.add_port(parser)
    parser.set_defaults(run=run)


def offset_text(info, received, round_trip):
    """The fob's clock minus the host's, as `fob info` shows it (fobhost.syncing.offset)."""
    value, to_the_ms = syncing.offset(info, received, round_trip)
    return "%+.3f s" % value if to_the_ms else "%+d s, to the second" % value


def run(args):
    with cliopts.connect(args) as client:
        try:
            info = client.request("INFO")
        except (DeviceError, LinkError) as error:
            raise UsageError(str(error)) from None
        received = time.time()
        round_trip = client.round_trip
    skew = "" if info["time"] is None else " (device - host: %s)" % offset_text(info, received, round_trip)
    rows = (
        ("serial", info["serial"]),
        ("state", info["state"]),
        ("sealed", None if info["sealed"] is None else "yes" if info["sealed"] else "no"),
        ("board", info["board"]),
        ("firmware", info["fw"]),
        ("protocol", info["proto"]),
        ("algorithms", None if info["alg"] is None else ",".join(info["alg"])),
        ("clock", utc.text(info["time"], unset="not set") + skew),
        ("expiry", utc.text(info["expiry"], unset="not set")),
        ("free", None if info["free"] is None else "%d bytes" % info["free"]),
    )
    for name, value in rows:
        print("%-11s %s" % (name, "-" if value is None else value))
