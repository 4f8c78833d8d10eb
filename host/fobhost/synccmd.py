"""`fob sync`: correct a sealed fob's clock to host UTC, proving the inventory holds its seed."""

import getpass

from fobcore import limits
from fobhost import cliopts, syncing, utc
from fobhost.errors import UsageError


def register(subparsers):
    parser = subparsers.add_parser(
        "sync",
        help="correct a sealed fob's clock (authenticated by its seed in the inventory)",
        description="Set the clock of the sealed fob on --port to the host's UTC. The fob gives a one-time "
        "challenge and accepts the correction only with a MAC made from its seed, which the inventory holds. "
        "A correction of more than the fob's bound (%d time steps), or one back past the last code it showed, "
        "is refused unless --force is given; the fob counts forced corrections. The inventory logs each one."
        % limits.MAX_SYNC_STEPS,
    )
    cliopts.add_port(parser)
    cliopts.add_inventory(parser)
    parser.add_argument("--force", action="store_true", help="apply a correction beyond the fob's bound")
    parser.add_argument(
        "--trim",
        action="store_true",
        help="also set the DS3231's aging trim from the drift since the last correction (at least %d days ago)"
        % syncing.MIN_TRIM_DAYS,
    )
    parser.add_argument("--by", metavar="NAME", help="who makes the correction, for the log (default: the login name)")
    parser.set_defaults(run=run)


def _who(args):
    if args.by is not None:
        if not args.by.strip() or not args.by.isprintable() or len(args.by) > 64:
            raise UsageError("--by must be 1 to 64 printable characters")
        return args.by
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in this environment
        return "unknown"


def run(args):
    who = _who(args)
    inventory = cliopts.open_inventory(args, create=False)
    with inventory, cliopts.connect(args) as client:
        try:
            done = syncing.sync(client, inventory, who, force=args.force, trim=args.trim)
        except syncing.SyncError as error:
            raise UsageError(str(error)) from None
    moved = "" if done.old_time is None else " (%+d s)" % (done.new_time - done.old_time)
    print(
        "fob %s: clock %s -> %s%s%s"
        % (
            done.serial,
            utc.text(done.old_time, unset="lost"),
            utc.text(done.new_time),
            moved,
            ", forced" if done.forced else "",
        )
    )
    if done.aging is not None:
        print(
            "fob %s: %+.2f ppm since the last correction; aging trim %+d -> %+d" % (done.serial, done.ppm, *done.aging)
        )
