"""`fob provision`: give blank fobs a fresh seed, serial number and time, check, seal and record them."""

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from fobcore import hashes, limits, otp
from fobhost import cliopts, provisioning, serials, utc
from fobhost.errors import Interrupted, UsageError
from fobhost.inventory import InventoryError
from fobhost.serialclient import LinkError


def register(subparsers):
    parser = subparsers.add_parser(
        "provision",
        help="provision, check, seal and record fobs",
        description="Provision the fob on --port: fresh random seed, serial number, the host's UTC time; "
        "check its code against the host's, seal it and record it in the inventory.",
    )
    cliopts.add_port(parser)
    cliopts.add_inventory(parser)
    parser.add_argument(
        "--serial",
        metavar="N",
        help="serial number: %d to %d digits, the last a Luhn check digit (default: the next automatic one)"
        % (limits.MIN_SERIAL, limits.MAX_SERIAL),
    )
    parser.add_argument(
        "--serial-prefix",
        metavar="DIGITS",
        help="prefix of automatic serial numbers; stored in the inventory for next time (default: 10)",
    )
    parser.add_argument("--algorithm", default="sha1", choices=hashes.ALGORITHMS, help="HMAC algorithm (default: sha1)")
    parser.add_argument(
        "--digits",
        type=int,
        default=6,
        help="code length, %d to %d (default: 6)" % (limits.MIN_DIGITS, limits.MAX_DIGITS),
    )
    parser.add_argument(
        "--period",
        type=int,
        default=otp.DEFAULT_PERIOD,
        help="time step, %d to %d s (default: 60)" % (limits.MIN_PERIOD, limits.MAX_PERIOD),
    )
    parser.add_argument("--valid-years", type=int, default=5, help="years until the fob expires (default: 5)")
    parser.add_argument("--count", type=int, default=1, help="provision N fobs in a row, prompting for each")
    parser.set_defaults(run=run)


def _check(args):
    if args.serial is not None:
        try:
            serials.check_given(args.serial)
        except ValueError as error:
            raise UsageError("--serial %s" % error) from None
    if args.serial is not None and args.count != 1:
        raise UsageError("--serial names one fob; use automatic numbers with --count")
    if not limits.MIN_DIGITS <= args.digits <= limits.MAX_DIGITS:
        raise UsageError("--digits must be %d to %d" % (limits.MIN_DIGITS, limits.MAX_DIGITS))
    if not limits.MIN_PERIOD <= args.period <= limits.MAX_PERIOD:
        raise UsageError("--period must be %d to %d seconds" % (limits.MIN_PERIOD, limits.MAX_PERIOD))
    if not 1 <= args.valid_years <= limits.MAX_VALID_YEARS:
        raise UsageError("--valid-years must be 1 to %d" % limits.MAX_VALID_YEARS)
    if args.count < 1:
        raise UsageError("--count must be at least 1")


def run(args):
    _check(args)
    inventory = cliopts.open_inventory(args)
    with inventory:
        if args.serial_prefix is not None:
            try:
                inventory.set_prefix(args.serial_prefix)
            except ValueError as error:
                raise UsageError(str(error)) from None
        console = Console(soft_wrap=True)
        with Progress(
            TextColumn("provisioning"), BarColumn(), MofNCompleteColumn(), console=console, disable=args.count == 1
        ) as progress:
            task = progress.add_task("fobs", total=args.count)
            for number in range(1, args.count + 1):
                done = _provision_with_retries(args, inventory, number, progress)
                progress.console.print(
                    "fob %s provisioned and sealed (%s, %d digits, %d s, expires %s)"
                    % (
                        done.serial,
                        done.algorithm,
                        done.digits,
                        done.period,
                        utc.text(done.expiry, utc.DATE),
                    )
                )
                progress.advance(task)


def _provision_with_retries(args, inventory, number, progress):
    """Fob ``number`` of a batch; a failed one (e.g. Enter without swapping fobs) is asked for again."""
    retry = False
    while True:
        if args.serial is None:
            _check_numbers_left(args, inventory, number)
        if number > 1 or retry:
            progress.stop()
            _wait_for_next(number, args.count)
            progress.start()
        try:
            return _provision_one(args, inventory)
        except Interrupted as error:
            raise Interrupted(_in_batch(args, number, error)) from None
        except UsageError as error:
            if args.count == 1:
                raise
            print(_in_batch(args, number, error), file=sys.stderr)
            retry = True


def _check_numbers_left(args, inventory, number):
    """A used-up serial prefix ends the batch: asking for the next fob again would not help."""
    try:
        inventory.next_serial()
    except InventoryError as error:
        raise UsageError(_in_batch(args, number, "step INFO failed: %s" % error)) from None


def _in_batch(args, number, error):
    return str(error) if args.count == 1 else "fob %d of %d: %s" % (number, args.count, error)


def _wait_for_next(number, count):
    print("Plug in fob %d of %d, then press Enter (Ctrl-D stops)." % (number, count), file=sys.stderr)
    if not sys.stdin.readline():
        raise UsageError("stopped before fob %d of %d; the fobs done before it are recorded" % (number, count))


def _provision_one(args, inventory):
    try:
        client = cliopts.connect(args)
    except UsageError as error:
        raise UsageError("step INFO failed: %s; the inventory is unchanged" % error) from None
    with client:
        try:
            return provisioning.provision(
                client,
                inventory,
                algorithm=args.algorithm,
                digits=args.digits,
                period=args.period,
                valid_years=args.valid_years,
                serial=args.serial,
            )
        except provisioning.ProvisioningError as error:
            raise (Interrupted if error.interrupted else UsageError)(str(error)) from None
        except LinkError as error:
            raise UsageError(str(error)) from None
