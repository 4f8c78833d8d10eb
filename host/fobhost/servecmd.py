"""`fob serve`: run the validation service's HTTP JSON API (fobauth) with uvicorn."""

import base64
import os
import sys

import uvicorn
from sqlalchemy.engine import make_url

from fobauth import runtime, seedbox
from fobauth.api import DEFAULT_SOURCE_RATE, DEFAULT_USER_RATE, PREFIX, create_app
from fobauth.ratelimit import Rate
from fobhost.errors import UsageError


def _rate(text):
    try:
        return Rate.parse(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


def add_storage_options(parser):
    """--db and --seed-key-file, shared with `fob admin`."""
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy URL: sqlite:///PATH or postgresql://USER@HOST/DB (default: $%s or %s)"
        % (runtime.DB_ENV, runtime.DEFAULT_URL),
    )
    parser.add_argument(
        "--seed-key-file",
        metavar="PATH",
        default=runtime.DEFAULT_SEED_KEY_FILE,
        help="AES-256 key sealing the seeds, created (0600) when missing; $%s overrides (default: %%(default)s)"
        % seedbox.KEY_ENV,
    )


def open_service(args, **engine_options):
    try:
        return runtime.open_service(args.db, args.seed_key_file, **engine_options)
    except runtime.ConfigError as error:
        raise UsageError(str(error)) from None


def register(subparsers):
    parser = subparsers.add_parser(
        "serve",
        help="run the validation service (HTTP JSON API)",
        description="Serve the fobauth HTTP JSON API under %s. Callers send 'Authorization: Bearer KEY' with "
        "the key from $%s or --api-key-file." % (PREFIX, runtime.API_KEY_ENV),
    )
    add_storage_options(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: %(default)s)")
    parser.add_argument(
        "--api-key-file",
        metavar="PATH",
        default=runtime.DEFAULT_API_KEY_FILE,
        help="file holding the API key, created with a random key (0600) when missing (default: %(default)s)",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (default: %(default)s)")
    parser.add_argument(
        "--user-rate", default=str(DEFAULT_USER_RATE), metavar="N/SECONDS", help="code checks per user (%(default)s)"
    )
    parser.add_argument(
        "--source-rate",
        default=str(DEFAULT_SOURCE_RATE),
        metavar="N/SECONDS",
        help="requests per client address (%(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no access log")
    parser.set_defaults(run=run)


def run(args):
    if not 1 <= args.workers <= 64:
        raise UsageError("--workers must be 1 to 64")
    user_rate, source_rate = _rate(args.user_rate), _rate(args.source_rate)
    try:
        key = runtime.api_key(args.api_key_file)
    except runtime.ConfigError as error:
        raise UsageError(str(error)) from None
    service = open_service(args, **runtime.worker_pool(runtime.database_url(args.db)))
    database = make_url(runtime.database_url(args.db)).render_as_string(hide_password=True)
    origin = "$%s" % runtime.API_KEY_ENV if os.environ.get(runtime.API_KEY_ENV) else args.api_key_file
    print(
        "fob serve: http://%s:%d%s (database %s, API key from %s)" % (args.host, args.port, PREFIX, database, origin),
        file=sys.stderr,
        flush=True,
    )
    options = {"host": args.host, "port": args.port, "proxy_headers": False, "access_log": not args.quiet}
    if args.workers == 1:
        app = create_app(service, key, user_rate=user_rate, source_rate=source_rate)
        uvicorn.run(app, **options)
        return 0
    service.engine.dispose()
    os.environ.update(
        {
            runtime.DB_ENV: runtime.database_url(args.db),
            runtime.API_KEY_ENV: key,
            seedbox.KEY_ENV: base64.b64encode(runtime.seed_key(args.seed_key_file)).decode(),
            runtime.USER_RATE_ENV: str(user_rate),
            runtime.SOURCE_RATE_ENV: str(source_rate),
        }
    )
    uvicorn.run("fobauth.runtime:app_from_environment", factory=True, workers=args.workers, **options)
    return 0
