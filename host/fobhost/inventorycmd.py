"""`fob inventory`: list the recorded fobs (never their seeds) and set the serial-number prefix."""

from fobhost import cliopts, utc
from fobhost.errors import UsageError
from fobhost.inventory import InventoryError, SerialsUsedUp


def register(subparsers):
    parser = subparsers.add_parser(
        "inventory",
        help="list provisioned fobs",
        description="List the fobs recorded in the inventory, and the next automatic serial number.",
    )
    cliopts.add_inventory(parser)
    parser.add_argument("--set-prefix", metavar="DIGITS", help="use DIGITS as the prefix of automatic serial numbers")
    parser.set_defaults(run=run)


# The listing's columns, each once: heading, layout, and its value in a TokenRecord.
_COLUMNS = (
    ("serial", "%-12s", lambda r: r.serial),
    ("alg", "%-6s", lambda r: r.algorithm),
    ("digits", "%6s", lambda r: r.digits),
    ("period", "%6s", lambda r: "%ds" % r.period),
    ("expires", "%-10s", lambda r: utc.text(r.expiry, utc.DATE)),
    ("provisioned", "%-11s", lambda r: utc.text(r.provisioned_at, utc.DATE)),
    ("board", "%s", lambda r: r.board),
)


def _line(values):
    return "  ".join(layout % value for (_, layout, _), value in zip(_COLUMNS, values, strict=True))


def run(args):
    try:
        _list(args)
    except InventoryError as error:
        raise UsageError(str(error)) from None


def _next_serial(inventory):
    try:
        return "next automatic serial number %s" % inventory.next_serial()
    except SerialsUsedUp as used_up:
        return "no numbers left under prefix %s: set another with --set-prefix" % used_up.prefix


def _list(args):
    with cliopts.open_inventory(args, create=args.set_prefix is not None) as inventory:
        if args.set_prefix is not None:
            try:
                inventory.set_prefix(args.set_prefix)
            except ValueError as error:
                raise UsageError(str(error)) from None
        print(_line(heading for heading, _, _ in _COLUMNS))
        records = inventory.tokens()
        for r in records:
            print(_line(value(r) for _, _, value in _COLUMNS))
        print("%d fob(s) in %s; %s" % (len(records), inventory.path, _next_serial(inventory)))
