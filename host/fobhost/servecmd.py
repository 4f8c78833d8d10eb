"""`fob serve`: run the validation service's HTTP JSON API (fobauth) with uvicorn.

The server's libraries are imported when the command runs, not when `fob` starts.
"""

import base64
import ipaddress
import os
import shutil
import sys
import tempfile

from fobauth import settings
from fobhost.errors import UsageError


def add_storage_options(parser):
    """--db and --seed-key-file, shared with `fob admin`."""
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy URL: sqlite:///PATH or postgresql://USER@HOST/DB (default: $%s or %s)"
        % (settings.DB_ENV, settings.DEFAULT_URL),
    )
    parser.add_argument(
        "--seed-key-file",
        metavar="PATH",
        default=settings.DEFAULT_SEED_KEY_FILE,
        help="AES-256 key sealing the seeds, created (0600) when missing; $%s overrides (default: %%(default)s)"
        % settings.SEED_KEY_ENV,
    )


def open_service(args, **engine_options):
    from fobauth import runtime

    try:
        return runtime.open_service(args.db, args.seed_key_file, **engine_options)
    except runtime.ConfigError as error:
        raise UsageError(str(error)) from None


def check_port(port):
    """A TCP or UDP port number, checked: uvicorn would listen on one past 65535 modulo 65536."""
    if not 1 <= port <= 65535:
        raise UsageError("--port must be 1 to 65535")


def trusted_proxies(given):
    """The proxy addresses or networks given, checked: a typo would otherwise trust nobody, or everybody."""
    proxies = [text.strip() for text in given if text.strip()]
    for text in proxies:
        try:
            ipaddress.ip_network(text)
        except ValueError:
            raise UsageError("--trusted-proxy: %r is not an IP address or network" % text) from None
    return proxies


def register(subparsers):
    parser = subparsers.add_parser(
        "serve",
        help="run the validation service (HTTP JSON API and the bank portal)",
        description="Serve the fobauth HTTP JSON API under %s and the bank portal's screens at /. API callers "
        "send 'Authorization: Bearer KEY' with the key from $%s or --api-key-file."
        % (settings.PREFIX, settings.API_KEY_ENV),
    )
    add_storage_options(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: %(default)s)")
    parser.add_argument(
        "--api-key-file",
        metavar="PATH",
        default=settings.DEFAULT_API_KEY_FILE,
        help="file holding the API key, created with a random key (0600) when missing (default: %(default)s)",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (default: %(default)s)")
    parser.add_argument(
        "--user-rate",
        default=settings.DEFAULT_USER_RATE,
        metavar="N/SECONDS",
        help="code checks per user (%(default)s)",
    )
    parser.add_argument(
        "--source-rate",
        default=settings.DEFAULT_SOURCE_RATE,
        metavar="N/SECONDS",
        help="requests per client address (%(default)s)",
    )
    parser.add_argument(
        "--trusted-proxy",
        metavar="ADDRESS",
        action="append",
        help="a reverse proxy (IP address or network) whose X-Forwarded-For names the client, for the "
        "per-address limits; repeatable; $%s (comma-separated) when not given (default: none, the "
        "connecting address is the client)" % settings.TRUSTED_PROXIES_ENV,
    )
    parser.add_argument("--quiet", action="store_true", help="no access log")
    parser.set_defaults(run=run)


def run(args):
    import uvicorn
    from sqlalchemy.engine import make_url

    from fobauth import limits, runtime
    from fobauth.ratelimit import Rate

    if not 1 <= args.workers <= 64:
        raise UsageError("--workers must be 1 to 64")
    check_port(args.port)
    try:
        user_rate, source_rate = Rate.parse(args.user_rate), Rate.parse(args.source_rate)
        proxies = trusted_proxies(args.trusted_proxy or os.environ.get(settings.TRUSTED_PROXIES_ENV, "").split(","))
        key = runtime.api_key(args.api_key_file)
    except (ValueError, runtime.ConfigError) as error:
        raise UsageError(str(error)) from None
    url = runtime.database_url(args.db)
    service = open_service(args, **runtime.worker_pool(url))
    origin = "$%s" % settings.API_KEY_ENV if os.environ.get(settings.API_KEY_ENV) else args.api_key_file
    print(
        "fob serve: http://%s:%d%s (database %s, API key from %s)"
        % (args.host, args.port, settings.PREFIX, make_url(url).render_as_string(hide_password=True), origin),
        file=sys.stderr,
        flush=True,
    )
    options = {"host": args.host, "port": args.port, "access_log": not args.quiet, **limits.uvicorn_options(proxies)}
    if args.workers == 1:
        app = runtime.build_app(service, key, user_rate, source_rate)
        runtime.settle_heap()
        uvicorn.run(app, **options)
        return 0
    service.engine.dispose()
    counts = tempfile.mkdtemp(prefix="fob-serve-")  # fobauth.balance: the workers' connection counts
    os.environ.update(  # the worker processes assemble their own service from these
        {
            settings.WORKER_COUNTS_ENV: counts,
            settings.DB_ENV: url,
            settings.API_KEY_ENV: key,
            settings.SEED_KEY_ENV: base64.b64encode(runtime.seed_key(args.seed_key_file)).decode(),
            settings.USER_RATE_ENV: str(user_rate),
            settings.SOURCE_RATE_ENV: str(source_rate),
        }
    )
    try:
        uvicorn.run("fobauth.runtime:app_from_environment", factory=True, workers=args.workers, **options)
    finally:
        shutil.rmtree(counts, ignore_errors=True)
    return 0
