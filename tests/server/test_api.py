"""The HTTP JSON API: each route, the API key, stable error bodies and rate limits."""

import hmac
import io
import os
import threading

import pskc
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from fobauth.ratelimit import Rate
from fobauth.schema import tokens

V1 = "/api/v1"


def error_of(response):
    assert 400 <= response.status_code < 500, response.text
    return response.json()["error"]


def pskc_document(serial, secret, password=None):
    container = pskc.PSKC()
    container.add_key(
        serial=serial,
        secret=secret,
        algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp",
        time_interval=60,
        response_length=6,
        response_encoding="DECIMAL",
    )
    if password:
        container.encryption.setup_pbkdf2(password)
    out = io.BytesIO()
    container.write(out)
    return out.getvalue()


def new_user(client, user_id, customer="acme", role="user", confirmation="confirmation pass"):
    body = {
        "user_id": user_id,
        "customer_id": customer,
        "role": role,
        "password": "login pass",
        "confirmation_password": confirmation,
    }
    response = client.post(V1 + "/users", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_whole_life_of_a_token_over_http(bank, client):
    secret = bytes(range(20))
    response = client.post(
        V1 + "/tokens/import",
        content=pskc_document("20260001", secret, "file pass"),
        headers={"Content-Type": "application/xml", "X-PSKC-Password": "file pass"},
    )
    assert response.status_code == 201 and response.json() == {"imported": ["20260001"]}
    bank.seeds["20260001"] = (secret, "sha1", 6)
    assert new_user(client, "alice")["must_register"] is True
    new_user(client, "boss", role="master")
    assert client.post(V1 + "/users/alice/token/skip").json()["must_register"] is True

    full_width = {"serial": "２０２６０００１", "code": bank.code("20260001")}
    registered = client.post(V1 + "/users/alice/token", json=full_width)
    assert registered.status_code == 200 and registered.json()["serial"] == "20260001"
    bank.clock.advance(60)
    code = bank.code("20260001")
    assert client.post(V1 + "/users/alice/verify", json={"code": code}).json() == {"user_id": "alice", "verified": True}
    assert error_of(client.post(V1 + "/users/alice/verify", json={"code": code})) == "replayed"

    shown = {bank.code("20260001", step) for step in range(-2, 3)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in shown)
    outcomes = [error_of(client.post(V1 + "/users/alice/verify", json={"code": wrong})) for _ in range(5)]
    assert outcomes == ["invalid_code"] * 4 + ["suspended"]
    assert client.get(V1 + "/users/alice").json()["suspended"] is True
    listed = client.get(V1 + "/customers/acme/suspended-users").json()["users"]
    assert [u["user_id"] for u in listed] == ["alice"]
    unlock = {"admin_id": "boss", "confirmation_password": "wrong"}
    assert client.post(V1 + "/users/alice/unlock", json=unlock).status_code == 403
    unlock["confirmation_password"] = "confirmation pass"
    assert client.post(V1 + "/users/alice/unlock", json=unlock).json()["suspended"] is False

    revoked = client.post(V1 + "/users/alice/token/revoke", json=unlock)
    assert revoked.status_code == 200
    assert revoked.json()["serial"] is None and revoked.json()["cooldown_until"].endswith("Z")
    retry = client.post(V1 + "/users/alice/token", json={"serial": "20260001", "code": bank.code("20260001")})
    assert error_of(retry) == "revoked_cooldown" and retry.status_code == 409

    expiring = client.get(V1 + "/tokens/expiring", params={"days": 5 * 366}).json()["tokens"]
    assert [t["serial"] for t in expiring] == ["20260001"] and expiring[0]["expires_at"].endswith("Z")


def test_resync_route(bank, client):
    bank.registered("alice")
    bank.clock.advance(8 * 60)
    body = {"first_code": bank.code("12345678", 5), "second_code": bank.code("12345678", 6)}
    assert client.post(V1 + "/users/alice/token/resync", json=body).json()["verified"] is True


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer wrong", "Basic dGVzdA==", "bearer  "])
def test_requests_without_the_api_key_are_refused_before_anything_else(bank, client, authorization):
    bank.registered("alice")
    headers = {"Authorization": authorization} if authorization is not None else {}
    client.headers.pop("Authorization")
    for response in (
        client.post(V1 + "/users/alice/verify", json={"code": bank.code("12345678")}, headers=headers),
        client.post(V1 + "/users/alice/verify", content=b"{not json", headers=headers),
        client.get(V1 + "/users/alice", headers=headers),
    ):
        assert response.status_code == 401 and response.json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert bank.service.status("alice").failures == 0


def test_an_app_served_under_a_root_path_still_asks_for_the_key(bank, make_client):
    """Behind a proxy that mounts the service under a prefix (uvicorn --root-path), the request's path
    carries the prefix: the limits and the key check judge the path the routes see, as Starlette does."""
    bank.registered("alice")
    client = make_client()
    key = client.headers.pop("Authorization").split()[1]
    mounted = TestClient(client.app, root_path="/bank")
    for response in (
        mounted.get("/bank" + V1 + "/users/alice"),
        mounted.post("/bank" + V1 + "/users/alice/verify", json={"code": bank.code("12345678")}),
    ):
        assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    keyed = TestClient(client.app, root_path="/bank", headers={"Authorization": "Bearer " + key})
    assert keyed.post("/bank" + V1 + "/users/alice/verify", json={"code": bank.code("12345678")}).status_code == 200
    assert bank.service.status("alice").failures == 0


NEW_USER = {"user_id": "x", "customer_id": "c", "role": "user", "password": "p", "confirmation_password": "q"}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/users/alice/verify", {"code": 123456}),
        ("/users/alice/verify", {"code": "1" * 65}),
        ("/users/alice/verify", {}),
        ("/users/alice/verify", {"code": "123456", "extra": 1}),
        ("/users/alice/verify", ["123456"]),
        ("/users/alice/verify", "123456"),
        ("/users/alice/token", {"serial": 12345678, "code": "123456"}),
        ("/users", dict(NEW_USER, user_id="x" * 65)),
        ("/users", dict(NEW_USER, role="root")),
        ("/users", dict(NEW_USER, user_id="x\n")),
        ("/users", dict(NEW_USER, password="")),
        ("/users/alice/unlock", {"admin_id": None, "confirmation_password": "x"}),
    ],
)
def test_malformed_bodies_are_400_bad_request(bank, client, path, body):
    bank.registered("alice")
    response = client.post(V1 + path, json=body)
    assert response.status_code == 400 and response.json()["error"] == "bad_request", response.text
    assert bank.service.status("alice").failures == 0


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/users/ev%00il/verify", {"code": "123456"}),
        ("GET", "/users/ev%00il", None),
        ("POST", "/users/ev%07il/token/resync", {"first_code": "123456", "second_code": "654321"}),
        ("GET", "/customers/ac%00me/suspended-users", None),
        ("POST", "/users/alice/unlock", {"admin_id": "ad\u0000min", "confirmation_password": "x"}),
    ],
)
def test_ids_that_are_not_printable_are_400_bad_request(client, method, path, body):
    """No service makes such ids; a NUL would reach PostgreSQL, which cannot read it (and fail the
    verifications grouped with it)."""
    response = client.request(method, V1 + path, json=body)
    assert response.status_code == 400 and response.json()["error"] == "bad_request", response.text


def test_invalid_json_is_400(client):
    response = client.post(V1 + "/users/alice/verify", content=b"\xff{", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "bad_request"


def test_oversized_pskc_upload_is_413(client):
    response = client.post(V1 + "/tokens/import", content=b"<a>" + b" " * (1 << 20) + b"</a>")
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_bad_pskc_password_is_400(client):
    doc = pskc_document("20260002", bytes(20), "right")
    response = client.post(V1 + "/tokens/import", content=doc, headers={"X-PSKC-Password": "wrong"})
    assert response.status_code == 400 and response.json()["error"] == "bad_pskc"


def test_psk_protected_import_takes_the_key_in_a_header(client):
    key = os.urandom(16)
    container = pskc.PSKC()
    container.add_key(serial="20260005", secret=bytes(20), algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp")
    container.encryption.setup_preshared_key(key=key, key_name="vendor")
    out = io.BytesIO()
    container.write(out)
    url = V1 + "/tokens/import"
    for headers in ({}, {"X-PSKC-Key": os.urandom(16).hex()}, {"X-PSKC-Key": "00" * 15}, {"X-PSKC-Key": "zz" * 16}):
        response = client.post(url, content=out.getvalue(), headers=headers)
        assert response.status_code == 400, headers
        assert key.hex() not in response.text
    both = {"X-PSKC-Key": key.hex(), "X-PSKC-Password": "x"}
    assert client.post(url, content=out.getvalue(), headers=both).status_code == 400
    response = client.post(url, content=out.getvalue(), headers={"X-PSKC-Key": key.hex().upper()})
    assert response.status_code == 201 and response.json() == {"imported": ["20260005"]}


def test_a_costly_pskc_document_is_refused_before_its_key_derivation(client):
    doc = pskc_document("20260006", bytes(20), "right").replace(b">100000<", b">10000000<")
    assert b">10000000<" in doc
    response = client.post(V1 + "/tokens/import", content=doc, headers={"X-PSKC-Password": "right"})
    assert response.status_code == 400 and "iteration count is too high" in response.json()["message"]


def test_a_running_import_does_not_hold_up_verification(bank, client, monkeypatch):
    """An import that has not finished (held here on an event) leaves verification answering."""
    bank.registered("alice")
    started, release = threading.Event(), threading.Event()

    def slow_import(*args):
        started.set()
        assert release.wait(30)
        return []

    monkeypatch.setattr(bank.service, "import_pskc", slow_import)
    importing = threading.Thread(target=lambda: client.post(V1 + "/tokens/import", content=b"<x/>"))
    importing.start()
    try:
        assert started.wait(30)
        verified = client.post(V1 + "/users/alice/verify", json={"code": bank.code("12345678")})
        assert verified.json() == {"user_id": "alice", "verified": True}
        assert importing.is_alive()  # the import is still running
    finally:
        release.set()
        importing.join()


def test_per_user_rate_limit(bank, make_client):
    client = make_client(user_rate=Rate(3, 60))
    bank.registered("alice")
    bank.registered("bob", serial="87654321")
    for _ in range(3):
        client.post(V1 + "/users/alice/verify", json={"code": "000000"})
    limited = client.post(V1 + "/users/alice/verify", json={"code": bank.code("12345678")})
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert client.post(V1 + "/users/bob/verify", json={"code": bank.code("87654321")}).status_code == 200
    assert client.get(V1 + "/users/alice").status_code == 200  # reading status is not limited per user


def test_per_source_rate_limit(bank, make_client):
    client = make_client(source_rate=Rate(5, 60))
    bank.user("alice")
    statuses = [client.get(V1 + "/users/alice").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2


def test_api_key_guesses_are_rate_limited_too(make_client):
    client = make_client(source_rate=Rate(3, 60))
    guesses = [client.get(V1 + "/users/x", headers={"Authorization": "Bearer guess%d" % i}) for i in range(5)]
    assert [r.status_code for r in guesses] == [401] * 3 + [429] * 2


def test_the_api_key_is_compared_once_per_request_in_constant_time(bank, client, monkeypatch):
    key = client.headers["Authorization"].split()[1].encode()
    compared = []
    real = hmac.compare_digest

    def counting(a, b):
        if key in (a, b):
            compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    bank.registered("alice")
    assert client.get(V1 + "/users/alice").status_code == 200
    assert client.post(V1 + "/users/alice/verify", json={"code": bank.code("12345678")}).status_code == 200
    assert len(compared) == 2  # once each


def test_a_suspended_administrator_cannot_unlock_over_the_api(bank, client):
    bank.registered("alice")
    bank.registered("boss", serial="87654321", role="master")
    for user_id in ("alice", "boss"):
        for _ in range(5):
            client.post(V1 + "/users/%s/verify" % user_id, json={"code": "000000"})
        assert bank.service.status(user_id).suspended
    body = {"admin_id": "boss", "confirmation_password": bank.CONFIRMATION}
    response = client.post(V1 + "/users/alice/unlock", json=body)
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert bank.service.status("alice").suspended


def test_confirmation_passwords_are_limited_per_administrator_like_codes(bank, make_client):
    client = make_client(user_rate=Rate(10, 60))
    bank.registered("alice")
    bank.user("boss", role="master")
    for _ in range(5):
        client.post(V1 + "/users/alice/verify", json={"code": "000000"})
    wrong = {"admin_id": "boss", "confirmation_password": "guess"}
    statuses = [client.post(V1 + "/users/alice/unlock", json=wrong).status_code for _ in range(12)]
    assert statuses == [403] * 10 + [429] * 2
    right = client.post(
        V1 + "/users/alice/unlock", json={"admin_id": "boss", "confirmation_password": bank.CONFIRMATION}
    )
    assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 1
    assert bank.service.status("alice").suspended


def test_openapi_document_lists_the_routes(client):
    document = client.get(V1 + "/openapi.json").json()
    assert set(document["paths"]) == {
        V1 + path
        for path in (
            "/tokens/import",
            "/users",
            "/users/{user_id}",
            "/users/{user_id}/token",
            "/users/{user_id}/token/skip",
            "/users/{user_id}/verify",
            "/users/{user_id}/token/resync",
            "/customers/{customer_id}/suspended-users",
            "/users/{user_id}/unlock",
            "/users/{user_id}/token/revoke",
            "/tokens/expiring",
        )
    }


def test_a_damaged_sealed_seed_is_a_logged_server_error_naming_the_token(bank, client, caplog):
    bank.registered("alice")
    with bank.service.engine.begin() as conn:
        sealed = conn.execute(select(tokens.c.sealed_seed)).scalar_one()
        conn.execute(update(tokens).values(sealed_seed=sealed[:-1] + bytes([sealed[-1] ^ 1])))
    response = client.post(V1 + "/users/alice/verify", json={"code": bank.code("12345678")})
    assert response.status_code == 500 and response.json()["error"] == "seed_unreadable"
    assert "12345678" in caplog.text
    assert bank.seeds["12345678"][0].hex() not in caplog.text + response.text


def test_a_plain_internal_error_is_500_without_retry_after(bank, client, monkeypatch):
    """Retry-After promises that waiting helps: only a 503 (overload, a database outage) makes it."""
    bank.registered("alice")

    def broken(user_id):
        raise RuntimeError("a bug")

    monkeypatch.setattr(bank.service, "status", broken)
    response = client.get(V1 + "/users/alice")
    assert response.status_code == 500 and response.json()["error"] == "internal_error"
    assert "Retry-After" not in response.headers
