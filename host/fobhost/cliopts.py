"""Options shared by the `fob` subcommands that talk to a fob or use the inventory."""

from fobhost import inventory, serialclient
from fobhost.errors import UsageError


def add_port(parser):
    parser.add_argument("--port", required=True, help="the fob's serial port, e.g. /dev/ttyACM0 or a simulator's pty")
    parser.add_argument(
        "--timeout",
        type=float,
        default=serialclient.DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for each reply before retrying (default: %(default)s)",
    )


def add_inventory(parser):
    parser.add_argument(
        "--inventory",
        metavar="PATH",
        help="the inventory database (default: %s; its key is PATH.key)" % inventory.default_path(),
    )


def open_inventory(args, create=True):
    """The inventory --inventory names; ``create=False`` for commands that only read it."""
    try:
        return inventory.Inventory(args.inventory, create)
    except (inventory.InventoryError, OSError) as error:
        raise UsageError(str(error)) from None


MAX_TIMEOUT = 600


def connect(args):
    if not 0 < args.timeout <= MAX_TIMEOUT:  # also refuses NaN
        raise UsageError("--timeout must be above 0 and at most %d seconds" % MAX_TIMEOUT)
    try:
        return serialclient.DeviceClient(args.port, timeout=args.timeout)
    except serialclient.LinkError as error:
        raise UsageError(str(error)) from None
