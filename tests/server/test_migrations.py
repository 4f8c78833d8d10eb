"""The schema comes from Alembic: created at start, upgraded idempotently, reversible."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from fobauth.database import MIGRATIONS, make_engine, upgrade


def alembic_config(connection):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def test_upgrade_creates_the_schema_at_head_and_is_idempotent(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert {"tokens", "users", "audit_events", "alembic_version"} <= set(inspect(conn).get_table_names())
        head = ScriptDirectory.from_config(alembic_config(conn)).get_current_head()
        assert MigrationContext.configure(conn).get_current_revision() == head
    engine.dispose()


def test_downgrade_to_base_and_back(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    with engine.connect() as conn:
        assert "audit_events" in inspect(conn).get_table_names()
    engine.dispose()


def test_the_models_match_the_migrations(sqlite_url):
    from alembic.autogenerate import compare_metadata

    from fobauth.schema import Base

    engine = make_engine(sqlite_url)
    upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []
    engine.dispose()


def test_tokens_from_before_the_drift_interval_keep_their_integer_drift(database_url):
    engine = make_engine(database_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
        conn.execute(
            text(
                "INSERT INTO tokens (serial, sealed_seed, algorithm, digits, period, expires_at, last_step, drift,"
                " imported_at) VALUES ('00000001', :seed, 'sha1', 6, 60, 2000000000, 5, 3, 1800000000)"
            ),
            {"seed": b"sealed"},
        )
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT drift, drift_lo, drift_hi, drift_at FROM tokens")).one()
    assert tuple(row) == (3, None, None, None)  # the window stays on drift 3 until a code teaches an interval
    engine.dispose()
