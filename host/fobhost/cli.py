"""The `fob` command: one subcommand per module, dispatched from here."""

import argparse
import os
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
from fobhost.errors import Interrupted, UsageError

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
# Commands that need the `server` extra (pyproject.toml): their libraries are imported when they run.
SERVER_COMMANDS = ("serve", "admin", "radius")


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
        status = args.run(args) or 0
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except Interrupted as error:
        print("fob %s: interrupted: %s" % (args.command, error), file=sys.stderr)
        return 130
    except UsageError as error:
        print("fob %s: error: %s" % (args.command, error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fob %s: interrupted" % args.command, file=sys.stderr)
        return 130
    except ModuleNotFoundError as error:
        if args.command not in SERVER_COMMANDS:
            raise
        print(
            "fob %s: error: the validation service needs fobkit's server extra: pip install 'fobkit[server]'"
            " (%s is missing)" % (args.command, error.name),
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:
        # The reader went away (`fob inventory | head`): say nothing more, as a command killed by SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
