"""Database trouble as a client sees it: 503 with Retry-After, never a statement's parameters (password
hashes) in an error or a log; no_secrets_in_logs (conftest) greps the server's output after each test."""

import base64

import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from fobauth.database import make_engine, upgrade
from fobauth.schema import users
from secretlog import Secrets, leaked_secrets

API_KEY = "outage-test-api-key-0123"
NEW_USER = {"customer_id": "acme", "role": "master", "password": "p" * 20, "confirmation_password": "q" * 20}


def test_statement_parameters_stay_out_of_database_errors(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    row = {"user_id": "alice", "customer_id": "acme", "role": "user", "failures": 0, "suspended": False}
    row.update(password_hash="$argon2id$v=19$hash-one", confirmation_hash="$argon2id$v=19$hash-two", created_at=0)
    with engine.begin() as conn:
        conn.execute(insert(users), row)
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(insert(users), row)
    engine.dispose()
    assert "argon2" not in str(caught.value)


def test_a_read_only_or_refusing_database_is_503_with_retry_after(make_bank, postgres_url, fob_serve):
    bank = make_bank(postgres_url)  # the schema, made by the tests' service
    seed_key = base64.b64encode(bytes(range(32))).decode()
    server = fob_serve("--db", postgres_url, FOB_API_KEY=API_KEY, FOB_SEED_KEY=seed_key)
    auth = {"Authorization": "Bearer " + API_KEY}
    Secrets.passwords.update((NEW_USER["password"], NEW_USER["confirmation_password"]))  # hashed by the server
    assert httpx.post(server.base + "/users", json={"user_id": "u0", **NEW_USER}, headers=auth).status_code == 201
    name = postgres_url.rsplit("/", 1)[1]
    admin = make_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # a failover: the database comes back read-only, connections are cut
        conn.execute(text("ALTER DATABASE %s SET default_transaction_read_only = on" % name))
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'" % name))
    for i in (1, 2):
        response = httpx.post(server.base + "/users", json={"user_id": "u%d" % i, **NEW_USER}, headers=auth)
        assert response.status_code == 503 and response.json()["error"] == "unavailable", response.text
        assert int(response.headers["Retry-After"]) >= 1
    with admin.connect() as conn:  # then no connections at all
        conn.execute(text("ALTER DATABASE %s ALLOW_CONNECTIONS false" % name))
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'" % name))
    response = httpx.get(server.base + "/users/u0", headers=auth)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 1
    log = server.stop()
    with admin.connect() as conn:
        conn.execute(text("ALTER DATABASE %s ALLOW_CONNECTIONS true" % name))
        conn.execute(text("ALTER DATABASE %s RESET default_transaction_read_only" % name))
    admin.dispose()
    bank.service.engine.dispose()
    assert "database unavailable" in log and not leaked_secrets(log, [])


def test_the_log_check_finds_each_kind_of_secret(bank):
    bank.registered("alice")
    seed = bank.seeds["12345678"][0]
    assert leaked_secrets("user alice: nothing secret, 12345678", [bank.clock.now]) == set()
    assert leaked_secrets("[parameters: ('$argon2id$v=19$m=1024',)]", []) == {"password or hash"}
    assert leaked_secrets("typed 'login-password'", []) == {"password or hash"}
    assert leaked_secrets("seed=%s" % seed.hex(), []) == {"seed"}
    assert leaked_secrets("code %s refused" % bank.code("12345678"), [bank.clock.now]) == {"code"}
