"""Assemble a running service from its configuration: database URL, seed key, API key, rate limits.

`fob serve` and `fob admin` use this; so do the worker processes of
`fob serve --workers N`, which read the same settings from the environment.
"""

import gc
import os
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from fobauth import balance, portal, seedbox, settings
from fobauth.api import create_app
from fobauth.database import BACKENDS, make_engine, upgrade
from fobauth.ratelimit import Rate
from fobauth.schema import tokens
from fobauth.service import AuthService
from fobauth.settings import (
    API_KEY_ENV,
    DB_ENV,
    DEFAULT_API_KEY_FILE,
    DEFAULT_SEED_KEY_FILE,
    DEFAULT_SOURCE_RATE,
    DEFAULT_URL,
    DEFAULT_USER_RATE,
    SOURCE_RATE_ENV,
    USER_RATE_ENV,
)


class ConfigError(Exception):
    """The service cannot start with this configuration."""


def make_data_dir(location):
    """Create settings.DATA_DIR (0700) when ``location``, a file or a database URL, names a file in it.
    Compared as paths, after ``..`` is resolved: a sibling such as ``server-old/`` is not inside."""
    if location is None:
        return
    if "://" in str(location):
        try:
            url = make_url(location)
        except ArgumentError:
            return  # make_engine says what is wrong with it
        if url.get_backend_name() != "sqlite" or not url.database:
            return  # a database server, or SQLite in memory
        location = url.database
    if Path(os.path.abspath(location)).is_relative_to(os.path.abspath(settings.DATA_DIR)):
        os.makedirs(settings.DATA_DIR, mode=0o700, exist_ok=True)


def database_url(url=None):
    url = url or os.environ.get(DB_ENV) or DEFAULT_URL
    make_data_dir(url)
    return url


def worker_pool(url):
    """Connection pool options for one HTTP server process.  Its verify threads, one per connection,
    take verifications in groups (fobauth.handoff), so a few suffice: on two cores, under
    benchmarks/server.py's 32 clients, 2 per process kept the p99 at or under 25 ms in 6 of 8 runs, 4
    in 4 of 8 (at the same rates; more threads wait longer for the GIL and the cores, more backends
    add context switches; 8 gave 70-110 ms before the groups).  Two rather than one, so that one long
    transaction of another route (all share the pool) does not stop verification.  SQLite keeps its
    single connection: see fobauth.database."""
    return {} if url.startswith("sqlite") else {"pool_size": 2, "max_overflow": 0}


def _read_or_create(path, create):
    """The stripped text of ``path``; a missing file is first created (mode 0600) by ``create(path)``."""
    make_data_dir(path)
    try:
        with open(path) as source:
            return source.read().strip()
    except FileNotFoundError:
        pass
    except OSError as error:
        raise ConfigError("cannot read %s: %s" % (path, error.strerror)) from None
    try:
        create(path)
        with open(path) as source:
            return source.read().strip()
    except OSError as error:  # its directory is missing or not writable: say so, create nothing
        raise ConfigError("cannot create %s: %s" % (path, error.strerror)) from None


def _create_api_key_file(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(32) + "\n")


def api_key(path=DEFAULT_API_KEY_FILE):
    """``FOB_API_KEY`` if set, else the key in ``path``, created with a random key when missing."""
    key = os.environ.get(API_KEY_ENV) or _read_or_create(path, _create_api_key_file)
    if len(key) < settings.MIN_SECRET_CHARS:
        raise ConfigError("the API key must be at least %d characters" % settings.MIN_SECRET_CHARS)
    return key


def seed_key(path=DEFAULT_SEED_KEY_FILE):
    """``FOB_SEED_KEY`` if set, else the key in ``path``, created with a random key when missing."""
    if not os.environ.get(seedbox.KEY_ENV):
        _read_or_create(path, seedbox.create_key_file)
    try:
        return seedbox.load_key(path)
    except seedbox.SeedKeyError as error:
        raise ConfigError(str(error)) from None


def _opened_database(url, **engine_options):
    """An engine on ``url`` with its schema brought to head, or ConfigError saying in one line why not:
    not a URL, a database fobauth does not keep its data in, or one that cannot be opened."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("--db: not a database URL (sqlite:///PATH or postgresql://USER@HOST/DB)") from None
    if parsed.get_backend_name() not in BACKENDS:
        raise ConfigError("--db: fobauth keeps its data in SQLite or PostgreSQL, not %s" % parsed.get_backend_name())
    engine = make_engine(parsed, **engine_options)
    try:
        upgrade(engine)
    except DBAPIError as error:  # the engine hides statement parameters; the driver's own words remain
        engine.dispose()
        reason = (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]
        shown = parsed.render_as_string(hide_password=True)
        raise ConfigError("cannot open the database %s: %s" % (shown, reason)) from None
    return engine


def open_service(url=None, seed_key_file=DEFAULT_SEED_KEY_FILE, **engine_options):
    """The service on ``url`` with its schema brought to head; refuses a seed key that does not open
    the seeds already stored (a wrong key would otherwise fail every later verification)."""
    engine = _opened_database(database_url(url), **engine_options)
    box = seedbox.SeedBox(seed_key(seed_key_file))
    with engine.connect() as conn:
        sample = conn.execute(select(tokens.c.serial, tokens.c.sealed_seed).limit(1)).first()
    if sample is not None:
        try:
            box.open(sample.sealed_seed, sample.serial)
        except seedbox.SeedKeyError:
            engine.dispose()
            raise ConfigError("the seed key does not open the seeds in this database") from None
    return AuthService(engine, box)


def build_app(service, key, user_rate, source_rate):
    """The ASGI app `fob serve` runs, in one process or in each of its workers."""
    return portal.mount(create_app(service, key, user_rate=user_rate, source_rate=source_rate), service, key)


def settle_heap():
    """Put everything alive at start-up (modules, the app, SQLAlchemy's and pydantic's tables) out of
    the cyclic collector's reach (gc.freeze), just before a process starts serving.  Otherwise every
    full collection walks all of it: measured with benchmarks/server.py, one came every few thousand
    requests and stalled each request in flight for 80-90 ms, which alone set the p99."""
    gc.collect()
    gc.freeze()


def app_from_environment():
    """The ASGI app of one worker of `fob serve`, configured through the environment it set."""
    service = open_service(seed_key_file=None, **worker_pool(database_url()))
    user_rate = Rate.parse(os.environ.get(USER_RATE_ENV) or DEFAULT_USER_RATE)
    source_rate = Rate.parse(os.environ.get(SOURCE_RATE_ENV) or DEFAULT_SOURCE_RATE)
    app = build_app(service, api_key(None), user_rate, source_rate)
    balance.worker_counts()  # published before the first client comes (fobauth.balance)
    settle_heap()
    return app
