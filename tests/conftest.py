"""Shared fixtures, and the summary line that says what ran inside MicroPython."""

import secrets

import pytest
from sqlalchemy import text

from fobauth import pgcluster
from fobauth.database import make_engine
from peers import missing

_vm_cases = []


@pytest.fixture
def vm_cases():
    """Tests running cases inside the MicroPython VM append (label, count) here."""
    return _vm_cases


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a throwaway PostgreSQL cluster, shared by the session's PostgreSQL tests."""
    try:
        with pgcluster.throwaway_cluster() as url:
            yield url
    except pgcluster.PostgresUnavailable as error:
        missing("PostgreSQL tests cannot run: %s" % error)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's PostgreSQL server."""
    name = "t_" + secrets.token_hex(6)
    admin = make_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE %s" % name))
    yield postgres_server.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE %s WITH (FORCE)" % name))
    admin.dispose()


def pytest_terminal_summary(terminalreporter):
    if _vm_cases:
        total = sum(count for _, count in _vm_cases)
        terminalreporter.section("MicroPython VM")
        for label, count in _vm_cases:
            terminalreporter.write_line("%6d cases executed inside MicroPython: %s" % (count, label))
        terminalreporter.write_line("%6d cases in all" % total)
