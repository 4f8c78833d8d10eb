"""Shared fixtures, and the summary line that says what ran inside MicroPython."""

import secrets

import pytest
from sqlalchemy import text

from fobauth import pgcluster
from fobauth.database import make_engine
from mpvm import PORTS
from peers import missing

_vm_cases = []  # (label, count) of every test's report, gathered where the summary is written


class _PortCases:
    """The counts travel in the test's user_properties, so that they reach the summary from xdist workers too."""

    def __init__(self, node, port):
        self.node = node
        self.port = port

    def append(self, case):
        label, count = case
        self.node.user_properties.append(("vm_cases", ("%s (%s)" % (label, self.port) if self.port else label, count)))


@pytest.fixture
def vm_cases(request):
    """Tests running cases inside the MicroPython VM append (label, count) here; the port is added to the label."""
    params = getattr(request.node, "callspec", None)
    return _PortCases(request.node, params.params.get("micropython_port") if params else None)


def pytest_runtest_logreport(report):
    if report.when == "teardown":  # each phase's report carries the test's properties: count them once
        _vm_cases.extend(case for name, case in report.user_properties if name == "vm_cases")


@pytest.fixture(params=PORTS)
def micropython_port(request):
    """Each MicroPython port the VM tests run on (tests/mpvm.py): a test taking this runs on both."""
    return request.param


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
        for label, count in sorted(_vm_cases):
            terminalreporter.write_line("%6d cases executed inside MicroPython: %s" % (count, label))
        terminalreporter.write_line("%6d cases in all" % total)
