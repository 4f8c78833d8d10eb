"""`fob radius`: answer RADIUS Access-Requests (RFC 2865) with the validation service (fobauth.radius).

The server's libraries are imported when the command runs, not when `fob` starts.
"""

import sys

from fobhost.errors import UsageError
from fobhost.servecmd import add_storage_options, check_port, open_service


def register(subparsers):
    parser = subparsers.add_parser(
        "radius",
        help="answer RADIUS Access-Requests with the validation service",
        description="Serve RADIUS authentication over UDP on the database `fob serve` uses. User-Name is the "
        "user, User-Password the one-time code alone; a Message-Authenticator is required. Clients are "
        "listed in --clients FILE (mode 0600), one 'ADDRESS[/PREFIX] SECRET' a line.",
    )
    add_storage_options(parser)
    parser.add_argument("--clients", required=True, metavar="FILE", help="allowed client addresses and secrets")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=1812, help="UDP port (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=8, help="verification threads (default: %(default)s)")
    parser.set_defaults(run=run)


def run(args):
    from fobauth import radius, runtime

    if not 1 <= args.workers <= 64:
        raise UsageError("--workers must be 1 to 64")
    check_port(args.port)
    try:
        clients = radius.read_clients(args.clients)
    except radius.ClientsError as error:
        raise UsageError(str(error)) from None
    service = open_service(args, **runtime.worker_pool(runtime.database_url(args.db)))
    try:
        sock = radius.bind(args.host, args.port)
    except OSError as error:
        raise UsageError("cannot listen on %s:%d: %s" % (args.host, args.port, error.strerror)) from None
    print(
        "fob radius: udp %s:%d, %d client entries" % (args.host, args.port, len(clients)), file=sys.stderr, flush=True
    )
    front = radius.RadiusFront(service, clients, args.workers)
    with sock:
        try:
            front.serve(sock)
        except KeyboardInterrupt:
            front.stop()
            raise
    return 0
