"""`fob info`: what a fob says about itself (never its seed: no command returns it)."""

import time

from fobhost import cliopts
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


def _utc(text):
    if not text.isdigit():
        return "not set"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(text)))
    except (OverflowError, ValueError, OSError):  # beyond what the host's calendar can show
        return "%s (not a valid time)" % text


def run(args):
    with cliopts.connect(args) as client:
        try:
            info = client.request("INFO")
        except (DeviceError, LinkError) as error:
            raise UsageError(str(error)) from None
    now = int(time.time())
    clock = info.get("time", "-")
    skew = " (device - host: %+d s)" % (int(clock) - now) if clock.isdigit() else ""
    rows = (
        ("serial", info.get("serial", "-")),
        ("state", info.get("state", "-")),
        ("sealed", info.get("sealed", "-")),
        ("board", info.get("board", "-")),
        ("firmware", info.get("fw", "-")),
        ("protocol", info.get("proto", "-")),
        ("algorithms", info.get("alg", "-")),
        ("clock", _utc(clock) + skew),
        ("expiry", _utc(info.get("expiry", "-"))),
        ("free", "%s bytes" % info.get("free", "-")),
    )
    for name, value in rows:
        print("%-11s %s" % (name, value))
