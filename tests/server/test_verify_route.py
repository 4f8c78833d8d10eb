"""POST /users/{user_id}/verify is a plain Starlette handler on a FastAPI-declared route: one request
parser (the OpenAPI model ``Verification``), so a body is judged the same way whoever it is for, and what
it refuses as malformed never reaches the service or the audit table."""

import json

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from fobauth.ratelimit import Rate
from fobauth.schema import audit_events
from fobauth.settings import MAX_ID_CHARS, PREFIX


def audit_rows(bank):
    with bank.service.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_events)).scalar_one()


def post(client, user_id, body, content_type="application/json"):
    response = client.post(PREFIX + "/users/%s/verify" % user_id, content=body, headers={"content-type": content_type})
    return response.status_code, response.json().get("error")


@pytest.mark.parametrize("user_id", ["alice", "nobody"])
@pytest.mark.parametrize(
    "body",
    [
        b'{"code": "\\ud800"}',  # a lone surrogate: not a string JSON can carry as UTF-8
        b'{"code": 123456}',
        b'{"code": "123456", "extra": 1}',
        b'["123456"]',
        b"{not json",
        b"\xff{",
        b"",
        json.dumps({"code": "1" * 65}).encode(),
    ],
)
def test_malformed_bodies_are_bad_requests_for_known_and_unknown_users_alike(bank, client, user_id, body):
    bank.registered("alice")
    before = audit_rows(bank)
    assert post(client, user_id, body) == (400, "bad_request")
    assert audit_rows(bank) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_not_sent_as_json_is_a_bad_request(bank, client, content_type):
    bank.registered("alice")
    before = audit_rows(bank)
    body = json.dumps({"code": bank.code("12345678")}).encode()
    assert post(client, "alice", body, content_type) == (400, "bad_request")
    assert audit_rows(bank) == before
    assert post(client, "alice", body, "application/json; charset=utf-8") == (200, None)


def test_a_well_formed_body_reaches_the_service(bank, client):
    bank.registered("alice")
    assert post(client, "nobody", b'{"code": "123456"}') == (404, "unknown_user")
    assert post(client, "alice", b'{"code": "12345x"}') == (400, "bad_code")  # the service's own check, audited
    assert post(client, "alice", json.dumps({"code": bank.code("12345678")}).encode()) == (200, None)
    assert post(client, "alice", json.dumps({"code": bank.code("12345678")}).encode()) == (403, "replayed")


def test_the_openapi_document_describes_the_model_that_validates(client):
    document = client.get(PREFIX + "/openapi.json").json()
    schema = document["paths"]["/api/v1/users/{user_id}/verify"]["post"]["requestBody"]["content"]
    reference = schema["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    model = document["components"]["schemas"][reference]
    assert model["required"] == ["code"] and model["properties"]["code"]["maxLength"] == 64
    assert model["additionalProperties"] is False


def test_a_user_over_the_rate_is_refused_before_the_body_is_parsed(bank, make_client):
    client = make_client(user_rate=Rate(1, 60))
    bank.registered("alice")
    assert post(client, "alice", b'{"code": "000000"}') == (403, "invalid_code")
    assert post(client, "alice", b"{not json") == (429, "rate_limited")


def test_the_openapi_document_describes_the_route_as_fastapi_declares_it(client):
    operation = client.get(PREFIX + "/openapi.json").json()["paths"]["/api/v1/users/{user_id}/verify"]["post"]
    assert operation["security"] == [{"HTTPBearer": []}]
    (parameter,) = operation["parameters"]
    assert parameter["name"] == "user_id" and parameter["in"] == "path" and parameter["required"]
    assert (parameter["schema"]["minLength"], parameter["schema"]["maxLength"]) == (1, MAX_ID_CHARS)
    assert operation["requestBody"]["required"] is True
    answers = {status: a["content"]["application/json"]["schema"] for status, a in operation["responses"].items()}
    assert answers.pop("200")["$ref"].endswith("/Verified")
    assert sorted(answers) == ["400", "401", "403", "404", "409", "413", "429"]
    assert all(schema["$ref"].endswith("/ErrorOut") for schema in answers.values())


def test_verification_is_answered_in_front_of_fastapis_layers_and_nothing_else_is(bank, client):
    """The load a bank sends skips FastAPI's middleware and router (docs/server-performance.md); every
    other request still passes through them, a middleware added to the app included."""
    entered = []

    class Seen:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            entered.append(scope["path"])
            await self.app(scope, receive, send)

    client.app.add_middleware(Seen)  # before the first request builds the app's middleware stack
    bank.registered("alice")
    assert post(client, "alice", json.dumps({"code": bank.code("12345678")}).encode()) == (200, None)
    assert post(client, "alice", b"{not json") == (400, "bad_request")
    assert client.get(PREFIX + "/users/alice").status_code == 200
    assert client.get(PREFIX + "/users/alice/verify").status_code == 405
    assert entered == [PREFIX + "/users/alice", PREFIX + "/users/alice/verify"]


def test_the_openapi_document_promises_no_answer_the_api_never_gives(client):
    """Malformed input is 400 bad_request with ErrorOut on every route, never FastAPI's 422: a bank's
    generated client must not expect a 422 body that cannot arrive."""
    FastAPI.openapi(client.app)  # FastAPI's own document, made and kept first, changes nothing
    document = client.get(PREFIX + "/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
            assert operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
