"""Engines and schema: SQLite by default, PostgreSQL (psycopg 3) by URL; Alembic brings the schema to head.

SQLite is opened in WAL mode (synchronous=NORMAL: a commit survives a crash
of the process, the last ones may be lost on power loss) with a busy timeout,
and every transaction starts with BEGIN IMMEDIATE: writers queue for the
lock instead of failing with "database is locked" when a read transaction
tries to upgrade.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

from fobauth.settings import DEFAULT_URL, SQLITE_BUSY_SECONDS

BACKENDS = ("sqlite", "postgresql")  # the databases make_engine prepares and the migrations are written for
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x666F6261  # "foba"


def normalise_url(url):
    """Plain ``postgresql://`` URLs use psycopg 3, the driver fobauth installs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _prepare_sqlite(engine):
    @event.listens_for(engine, "connect")
    def connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event issues BEGIN itself
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url=DEFAULT_URL, **options):
    """An engine for ``url`` (SQLite file or PostgreSQL).  Its errors and logs never show a statement's
    parameters: they hold password hashes and sealed seeds."""
    url = normalise_url(url)
    options = {"hide_parameters": True, **options}
    if url.get_backend_name() == "sqlite":
        # SQLite has one writer at a time: with one pooled connection per process, threads queue in the
        # pool instead of sleeping in SQLite's busy handler; processes still wait on the busy timeout.
        options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": SQLITE_BUSY_SECONDS, **options}
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **options)
        _prepare_sqlite(engine)
        return engine
    return create_engine(url, **options)


class NothingKept(Exception):
    """An attempt failed before anything of it could be kept.  ``error`` is the database's own error;
    the message names only its type (the driver's text may quote stored data)."""

    def __init__(self, error):
        super().__init__(type(error).__name__)
        self.error = error


class Dropped(NothingKept):
    """The database dropped the connection (a restart, a failover) before anything of an attempt could
    be kept: running it again is safe."""


def once_more_if_dropped(attempt):
    """``attempt()``, run once more if it raised Dropped: the pool has let the dead connections go, so
    the second try gets a new one.  The service's one retry rule.  Attempts raise Dropped only while
    nothing of theirs can have been kept, so a retry never counts a wrong code twice; a second drop in
    a row raises the database's error, and the client is told to retry later (503)."""
    try:
        return attempt()
    except Dropped:
        pass
    try:
        return attempt()
    except Dropped as dropped:
        raise dropped.error from None


def upgrade(engine):
    """Create or upgrade the schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # two services starting at once migrate one after the other
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%d)" % _MIGRATION_LOCK)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
