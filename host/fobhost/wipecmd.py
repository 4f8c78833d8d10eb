"""`fob wipe`: erase a fob's seed so it is BLANK again (the only way out of SEALED)."""

import sys

from fobhost import cliopts
from fobhost.errors import UsageError
from fobhost.serialclient import DeviceError, LinkError


def register(subparsers):
    parser = subparsers.add_parser(
        "wipe",
        help="erase a fob's seed (BLANK again)",
        description="Erase the seed of the fob on --port. A SEALED fob stops working for its owner: "
        "that needs --yes or a typed confirmation.",
    )
    cliopts.add_port(parser)
    parser.add_argument("--yes", action="store_true", help="wipe a SEALED fob without asking")
    parser.set_defaults(run=run)


def run(args):
    with cliopts.connect(args) as client:
        try:
            info = client.request("INFO")
            if (info["sealed"] or info["state"] == "SEALED") and not args.yes:
                _confirm(info["serial"] or "-")
            reply = client.request("WIPE")
        except (DeviceError, LinkError) as error:
            raise UsageError(str(error)) from None
    print("wiped %s: state %s" % (info["serial"] or "-", reply["state"] or "-"))


def _confirm(serial):
    if not sys.stdin.isatty():
        raise UsageError("fob %s is sealed; pass --yes to wipe it" % serial)
    answer = input("fob %s is sealed and in use; type its serial number to wipe it: " % serial)
    if answer.strip() != serial:
        raise UsageError("not confirmed; the fob is unchanged")
