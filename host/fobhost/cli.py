"""The `fob` command: one subcommand per module, dispatched from here."""

import argparse
import sys

from fobhost import (
    admincmd,
    codecmd,
    exportcmd,
    flashcmd,
    infocmd,
    inventorycmd,
    labelcmd,
    provisioncmd,
    radiuscmd,
    servecmd,
    simcmd,
    wipecmd,
)
from fobhost.errors import UsageError

# Each module provides register(subparsers), which adds its subcommand and
# sets `run(args)` as the parser default.
COMMANDS = (
    codecmd,
    flashcmd,
    provisioncmd,
    infocmd,
    wipecmd,
    exportcmd,
    labelcmd,
    inventorycmd,
    simcmd,
    servecmd,
    radiuscmd,
    admincmd,
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fob",
        description="fobkit: one-time-password key-fob tokens — firmware, provisioning, simulator, validation.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except UsageError as error:
        print("fob %s: error: %s" % (args.command, error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fob %s: interrupted" % args.command, file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
