"""One-time use and failure counting under concurrent requests: threads, and two service processes,
on a SQLite file and on a real PostgreSQL server."""

import base64
import collections
import functools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from fobauth import errors
from fobauth.schema import audit_events

WORKER = Path(__file__).with_name("verify_worker.py")


def at_once(count, call):
    """Run ``call()`` from ``count`` threads released together; the Counter of outcomes."""
    barrier = threading.Barrier(count)
    outcomes = collections.Counter()
    lock = threading.Lock()

    def attempt():
        barrier.wait()
        try:
            call()
            result = "ok"
        except errors.AuthError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def audited(bank, event, result):
    with bank.service.engine.connect() as conn:
        query = select(func.count()).where(audit_events.c.event == event, audit_events.c.result == result)
        return conn.execute(query).scalar_one()


def wrong(bank):
    shown = {bank.code("12345678", s) for s in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in shown)


def test_fifty_simultaneous_uses_of_one_code_accept_exactly_one(make_bank, database_url):
    bank = make_bank(database_url)
    bank.registered("alice")
    code = bank.code("12345678")
    outcomes = at_once(50, lambda: bank.service.verify("alice", code))
    assert outcomes == {"ok": 1, "replayed": 49}
    assert audited(bank, "verify", "ok") == 1


def test_simultaneous_use_by_sharers_accepts_exactly_one(make_bank, database_url):
    bank = make_bank(database_url)
    bank.registered("alice")
    bank.user("bob")
    bank.service.register("bob", "12345678", bank.code("12345678"))
    bank.clock.advance(bank.PERIOD)
    code = bank.code("12345678")
    users = iter(["alice", "bob"] * 25)
    lock = threading.Lock()

    def verify():
        with lock:
            user = next(users)
        bank.service.verify(user, code)

    assert at_once(50, verify) == {"ok": 1, "replayed": 49}


def test_concurrent_wrong_codes_are_counted_exactly(make_bank, database_url):
    bank = make_bank(database_url, max_failures=100)
    bank.registered("alice")
    outcomes = at_once(40, lambda: bank.service.verify("alice", wrong(bank)))
    assert outcomes == {"invalid_code": 40}
    assert bank.service.status("alice").failures == 40


def test_concurrent_wrong_codes_suspend_exactly_at_the_limit(make_bank, database_url):
    bank = make_bank(database_url)
    bank.registered("alice")
    outcomes = at_once(30, lambda: bank.service.verify("alice", wrong(bank)))
    assert outcomes == {"invalid_code": 4, "suspended": 26}
    status = bank.service.status("alice")
    assert status.suspended and status.failures == 5
    assert audited(bank, "lockout", "suspended") == 1


@pytest.mark.parametrize(
    "kind, expected",
    [("right", {"ok": 1, "replayed": 49}), ("wrong", {"invalid_code": 4, "suspended": 46})],
)
def test_two_service_processes_sharing_postgresql(make_bank, postgres_url, kind, expected):
    bank = make_bank(postgres_url)
    bank.registered("alice")
    code = bank.code("12345678") if kind == "right" else wrong(bank)
    environment = dict(os.environ, FOB_SEED_KEY=base64.b64encode(bytes(range(32))).decode())
    argv = [sys.executable, str(WORKER), postgres_url, "alice", code, "25", str(bank.clock.now)]
    workers = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environment)
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        totals = collections.Counter()
        for worker in workers:
            totals.update(json.loads(worker.stdout.readline()))
            assert worker.wait(timeout=60) == 0
    finally:
        for worker in workers:
            worker.kill()
    assert totals == expected
    status = bank.service.status("alice")
    assert (status.failures, status.suspended) == ((0, False) if kind == "right" else (5, True))


def test_fifty_simultaneous_http_requests_to_two_server_processes_accept_exactly_one(
    make_bank, postgres_url, fob_serve
):
    bank = make_bank(postgres_url)
    key = "concurrency-test-api-key"
    seed_key = base64.b64encode(bytes(range(32))).decode()
    options = ["--db", postgres_url, "--workers", "2", "--user-rate", "100/1"]  # 50 tries of one user at once
    server = fob_serve(*options, FOB_API_KEY=key, FOB_SEED_KEY=seed_key)
    # The server runs on the real clock.  Registered a step ago with the code shown then, typed at once:
    # the code of now is fresh, and typed as fast it is inside the window whatever the phase
    # (docs/server.md, "How drift is learnt").
    bank.clock.now = int(time.time()) - bank.PERIOD
    bank.registered("alice")
    code = bank.code("12345678")
    barrier = threading.Barrier(50)
    statuses = collections.Counter()
    lock = threading.Lock()

    def attempt():
        with httpx.Client(headers={"Authorization": "Bearer " + key}) as client:
            barrier.wait()
            response = client.post(server.base + "/users/alice/verify", json={"code": code})
        with lock:
            statuses[(response.status_code, response.json().get("error"))] += 1

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == {(200, None): 1, (403, "replayed"): 49}


def register_one(bank, serial, attempts):
    user, code = attempts.get_nowait()
    bank.service.register(user, serial, code)


def test_two_customers_registering_one_token_at_once_never_both_bind_it(make_bank, database_url):
    """Users of two customers register one unbound token at the same moment, with codes of adjacent
    steps (both fresh, so one-time use alone does not separate them): at most one binding, 40 rounds."""
    bank = make_bank(database_url)
    double = 0
    for round_ in range(40):
        serial = bank.add_token("%08d" % (20_000_000 + round_))
        first, second = bank.user("a%d" % round_, customer="acme"), bank.user("b%d" % round_, customer="globex")
        attempts = queue.SimpleQueue()  # each of the two threads takes one (user, code)
        attempts.put((first, bank.code(serial)))
        attempts.put((second, bank.code(serial, 1)))
        outcomes = at_once(2, functools.partial(register_one, bank, serial, attempts))
        bound = [user for user in (first, second) if bank.service.status(user).serial == serial]
        assert outcomes["ok"] == len(bound)
        double += len(bound) > 1
    assert double == 0
