"""A PostgreSQL server that drops the service's connections (a restart, a failover) costs no request."""

import socket
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from fobauth.api import database_outage
from fobauth.database import make_engine


@pytest.mark.parametrize("fast_path", [True, False])
def test_verification_survives_dropped_connections(make_bank, postgres_url, fast_path):
    bank = make_bank(postgres_url, fast_path=fast_path)
    bank.registered("alice")
    bank.registered("bob", serial="87654321")
    bank.service.verify("alice", bank.code("12345678"))  # the pool now holds a live connection
    killer = make_engine(postgres_url)
    with killer.begin() as conn:
        dropped = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    killer.dispose()
    assert dropped >= 1
    bank.service.verify("bob", bank.code("87654321"))
    assert bank.service.status("bob").failures == 0


class Cutter:
    """A TCP relay to PostgreSQL that, while armed (``armed``: how many more cuts), passes on a message
    holding ``marker`` (or, with ``at_commit``, the COMMIT after it) and then cuts the connection
    before the answer comes back: the server has done it, the client cannot know it."""

    def __init__(self, url, marker, at_commit):
        parsed = make_url(url)
        self._target = (parsed.host, parsed.port)
        self._marker = marker
        self._at_commit = at_commit
        self.armed = 0
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = parsed.set(port=self._listener.getsockname()[1]).render_as_string(hide_password=False)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self._listener.accept()
            server = socket.create_connection(self._target)
            state = {"marked": False, "cut": False}
            threading.Thread(target=self._upstream, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, client, state), daemon=True).start()

    def _upstream(self, client, server, state):
        while data := _recv(client):
            if self.armed and self._marker in data:
                state["marked"] = True
            if state["marked"] and (not self._at_commit or b"COMMIT\x00" in data):
                self.armed, state["cut"] = self.armed - 1, True  # set before the server can answer
            if not _send(server, data):
                break
        _hang_up(server)

    def _downstream(self, server, client, state):
        while data := _recv(server):
            if state["cut"]:
                self.cuts += 1
                break
            if not _send(client, data):
                break
        _hang_up(client)
        _hang_up(server)


def _hang_up(connection):
    """Close ``connection`` so that its peer and a thread blocked reading it both see the end at once."""
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed
    connection.close()


def _send(connection, data):
    try:
        connection.sendall(data)
        return True
    except OSError:
        return False


def _recv(connection):
    try:
        return connection.recv(65536)
    except OSError:
        return b""


COUNT_FAILURE = b"UPDATE users SET failures"
READ = b"FROM users LEFT OUTER JOIN tokens"


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_check_whose_read_lost_its_connection_runs_once_more_then_is_an_outage(make_bank, postgres_url, fast_path):
    """Nothing is written before the read: one drop there costs nothing; a second one in a row is the
    database's own error (503 unavailable), not a third try."""
    bank = make_bank(postgres_url)
    bank.registered("alice")
    cutter = Cutter(postgres_url, READ, at_commit=False)
    through_cutter = make_bank(cutter.url, fast_path=fast_path).service
    cutter.armed = 1
    through_cutter.verify("alice", bank.code("12345678"))
    assert cutter.cuts == 1
    bank.clock.advance(bank.PERIOD)
    cutter.armed = 2
    with pytest.raises(Exception) as caught:
        through_cutter.verify("alice", bank.code("12345678"))
    assert database_outage(caught.value)
    assert cutter.cuts == 3
    through_cutter.verify("alice", bank.code("12345678"))  # not counted, not consumed
    assert bank.service.status("alice").failures == 0


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_counted_failure_lost_with_its_connection_is_not_counted_again(make_bank, postgres_url, fast_path):
    """The cut follows the statement that counts the failure, which commits on its own (the general path,
    in autocommit) or at the Sync that follows it (the fast path's group, fobauth.hotpath)."""
    bank = make_bank(postgres_url)
    bank.registered("alice")
    cutter = Cutter(postgres_url, COUNT_FAILURE, at_commit=False)
    through_cutter = make_bank(cutter.url, fast_path=fast_path).service
    cutter.armed = 1
    with pytest.raises(Exception) as caught:  # whether it counted cannot be known: 503, retry later
        through_cutter.verify("alice", "000000")
    assert database_outage(caught.value)
    assert cutter.cuts == 1
    assert bank.service.status("alice").failures == 1  # committed once, and not again by a retry


def test_a_commit_lost_with_its_connection_is_not_retried_into_a_second_failure(make_bank, postgres_url):
    """Registration is one transaction: the cut follows the COMMIT of the one that counted a wrong code."""
    bank = make_bank(postgres_url)
    bank.add_token("12345678")
    bank.user("alice")
    cutter = Cutter(postgres_url, COUNT_FAILURE, at_commit=True)
    through_cutter = make_bank(cutter.url).service
    cutter.armed = 1
    with pytest.raises(DBAPIError) as caught:
        through_cutter.register("alice", "12345678", "000000")
    assert database_outage(caught.value)
    assert cutter.cuts == 1
    assert bank.service.status("alice").failures == 1
