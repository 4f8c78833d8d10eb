"""`fob serve --workers N` shares keep-alive clients out evenly (fobauth.balance): uvicorn's workers
accept from one socket and the first to wake takes a whole burst, so without this the split of
connections opened at once stays whatever the burst gave."""

import socket
import subprocess
import sys

import pytest

from benchmarks import _proc
from fobauth import balance, settings

API_KEY = "balance-test-api-key-0123456789"
REQUEST = b"GET /api/v1/users/nobody HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % API_KEY.encode()


def answer(connection):
    """One answer read whole (the 404's short JSON body has a Content-Length); its header fields."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        assert chunk, "the server hung up without answering"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    fields = dict(line.lower().split(b": ", 1) for line in head.split(b"\r\n")[1:])
    length = int(fields[b"content-length"])
    while len(body) < length:
        body += connection.recv(4096)
    return fields


def test_clients_connecting_at_once_end_up_shared_evenly(fob_serve, tmp_path):
    storage = ["--db", "sqlite:///%s" % (tmp_path / "db"), "--seed-key-file", str(tmp_path / "key")]
    server = fob_serve(*storage, "--workers", "2", FOB_API_KEY=API_KEY)
    clients = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(24)]

    def round_of_requests():
        """One request per client; a client told to close reconnects.  How many were told."""
        moved = 0
        for number, connection in enumerate(clients):
            connection.sendall(REQUEST)
            if answer(connection).get(b"connection") == b"close":
                connection.close()
                clients[number] = socket.create_connection(("127.0.0.1", server.port), timeout=30)
                moved += 1
        return moved

    def split():
        return sorted(_proc.connections(server.process.pid, server.port).values())

    for _ in range(60):
        round_of_requests()
        if len(split()) == 2 and split()[1] - split()[0] <= 1:
            break
    assert len(split()) == 2 and split()[1] - split()[0] <= 1, split()
    assert [round_of_requests() for _ in range(10)] == [0] * 10  # once even, nobody is moved
    for connection in clients:
        connection.close()


@pytest.fixture
def look_always(monkeypatch):
    monkeypatch.setattr(balance, "LOOK_EVERY", 0)


@pytest.fixture
def other_worker():
    """A live process standing in for another worker."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def test_a_worker_is_crowded_only_above_the_least_busy_other_by_more_than_one(tmp_path, look_always, other_worker):
    mine, other = balance.Counts(str(tmp_path)), balance.Counts(str(tmp_path), pid=other_worker)
    assert not mine.crowded()  # alone: nothing to share with
    for _ in range(3):
        mine.opened()
    other.opened()
    assert mine.crowded() and not other.crowded()  # 3 against 1
    mine.closed()
    assert not mine.crowded()  # 2 against 1


def test_a_crowded_worker_moves_one_connection_per_reading(tmp_path, monkeypatch, other_worker):
    monkeypatch.setattr(balance, "LOOK_EVERY", 3600)
    mine = balance.Counts(str(tmp_path))
    balance.Counts(str(tmp_path), pid=other_worker).opened()
    for _ in range(4):
        mine.opened()
    assert [mine.crowded() for _ in range(4)] == [True, True, False, False]  # 4 and 1 become 3 and 2


def test_ended_workers_and_files_being_replaced_are_not_counted(tmp_path, look_always, other_worker):
    mine = balance.Counts(str(tmp_path))
    for _ in range(3):
        mine.opened()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    (tmp_path / str(ended.pid)).write_text("0")  # a worker that died holding none
    (tmp_path / ("%d.new" % other_worker)).write_text("0")  # a count being written
    assert not mine.crowded()
    (tmp_path / str(other_worker)).write_text("not a number")
    assert not mine.crowded()


def test_one_process_serves_without_sharing(monkeypatch, tmp_path):
    """Only `fob serve --workers N` names the directory; without it nothing is published."""
    balance.worker_counts.cache_clear()
    monkeypatch.delenv(settings.WORKER_COUNTS_ENV, raising=False)
    assert balance.worker_counts() is None
    balance.worker_counts.cache_clear()
    monkeypatch.setenv(settings.WORKER_COUNTS_ENV, str(tmp_path))
    assert isinstance(balance.worker_counts(), balance.Counts)
    balance.worker_counts.cache_clear()
