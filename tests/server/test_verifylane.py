"""The verify lane (fobauth.verifylane): well-formed verifications are answered in front of FastAPI exactly
as the FastAPI route answers them; everything else reaches FastAPI with its body intact."""

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from fobauth.api import Gate, create_app, error_response
from fobauth.ratelimit import Rate
from fobauth.settings import PREFIX
from fobauth.verifylane import MAX_BODY, VerifyLane

API_KEY = "verify-lane-test-key-0123456789"
AUTHORIZATION = ("authorization", "Bearer " + API_KEY)
JSON = ("content-type", "application/json")


def without_lane(app):
    """The same FastAPI app with the lane taken out: every request goes through the FastAPI route."""
    app.user_middleware = [middleware for middleware in app.user_middleware if middleware.cls is not VerifyLane]
    return app


def answer(client, user_id, body, headers):
    response = client.post(PREFIX + "/users/%s/verify" % user_id, content=body, headers=dict(headers))
    kept = {name: response.headers.get(name) for name in ("content-type", "www-authenticate", "retry-after")}
    return response.status_code, response.content, kept


CASES = [
    ("nobody", b'{"code": "123456"}', [AUTHORIZATION, JSON]),  # unknown user, answered by the lane
    ("nobody", b'{"code": "123456"}', [("authorization", "bearer " + API_KEY), JSON]),  # scheme in any case
    ("nobody", b'{"code": "123456"}', [JSON]),  # no key
    ("nobody", b'{"code": "123456"}', [("authorization", "Basic " + API_KEY), JSON]),
    ("nobody", b'{"code": "123456"}', [("authorization", "Bearer wrong-key-0123456789"), JSON]),
    ("alice", b'{"code": "12345x"}', [AUTHORIZATION, JSON]),  # not digits: bad_code from the service
    ("alice", b'{"code": ""}', [AUTHORIZATION, JSON]),
    # malformed: FastAPI's to answer
    ("alice", b'{"code": 123456}', [AUTHORIZATION, JSON]),
    ("alice", b'{"code": "123456", "extra": 1}', [AUTHORIZATION, JSON]),
    ("alice", b'["123456"]', [AUTHORIZATION, JSON]),
    ("alice", b"{not json", [AUTHORIZATION, JSON]),
    ("alice", b"\xff{", [AUTHORIZATION, JSON]),
    ("alice", b"", [AUTHORIZATION, JSON]),
    ("alice", b'{"code": "123456"}', [AUTHORIZATION, ("content-type", "text/plain")]),
    ("alice", json.dumps({"code": "1" * 65}).encode(), [AUTHORIZATION, JSON]),
    ("alice", json.dumps({"code": "1" * 2 * MAX_BODY}).encode(), [AUTHORIZATION, JSON]),
    ("a" * 65, b'{"code": "123456"}', [AUTHORIZATION, JSON]),
]


@pytest.mark.parametrize("user_id, body, headers", CASES)
def test_the_lane_answers_as_the_fastapi_route_does(bank, user_id, body, headers):
    bank.registered("alice")
    with (
        TestClient(create_app(bank.service, API_KEY)) as lane,
        TestClient(without_lane(create_app(bank.service, API_KEY))) as route,
    ):
        assert answer(lane, user_id, body, headers) == answer(route, user_id, body, headers)


def test_accepted_replayed_and_rate_limited_alike(make_bank, tmp_path):
    """Two banks with the same story, one served with the lane and one without: the same answers."""
    answers = []
    for name, served in (("lane", lambda app: app), ("route", without_lane)):
        bank = make_bank("sqlite:///%s" % (tmp_path / (name + ".db")))
        bank.registered("alice")
        with TestClient(served(create_app(bank.service, API_KEY, user_rate=Rate(3, 60)))) as client:
            body = json.dumps({"code": bank.code("12345678")}).encode()
            answers.append([answer(client, "alice", body, [AUTHORIZATION, JSON]) for _ in range(4)])
    with_lane, route_only = answers
    errors = [json.loads(content).get("error") for _, content, _ in with_lane]
    assert errors == [None, "replayed", "replayed", "rate_limited"]
    assert with_lane == route_only


class Recorder:
    """The app behind the lane: records what reaches it and answers 418."""

    def __init__(self):
        self.bodies = []

    async def __call__(self, scope, receive, send):
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def call(lane, user_id, pieces, method="POST", headers=(AUTHORIZATION, JSON)):
    """POST ``pieces`` (the body in several messages) through ``lane``; the status and body sent back."""
    scope = {
        "type": "http",
        "method": method,
        "path": PREFIX + "/users/%s/verify" % user_id,
        "headers": [(name.encode(), value.encode()) for name, value in headers],
        "client": ("192.0.2.1", 50000),
    }
    messages = [
        {"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1} for i, piece in enumerate(pieces)
    ]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(lane(scope, receive, send))
    return sent[0]["status"], b"".join(message.get("body", b"") for message in sent[1:])


def new_lane(bank):
    behind = Recorder()
    gate = Gate(API_KEY, Rate(100, 60), Rate(100, 60))
    return VerifyLane(behind, PREFIX, bank.service, gate, error_response), behind


def test_a_body_in_pieces_is_put_together_and_verified_by_the_lane(bank):
    bank.registered("alice")
    lane, behind = new_lane(bank)
    body = json.dumps({"code": bank.code("12345678")}).encode()
    status, answered = call(lane, "alice", [body[:3], body[3:9], body[9:]])
    assert (status, json.loads(answered)) == (200, {"user_id": "alice", "verified": True})
    assert behind.bodies == []
    assert bank.service.status("alice").failures == 0


@pytest.mark.parametrize(
    "pieces",
    [
        [b'{"code": ', b"123456}"],  # not a string
        [b'{"code": "', b"1" * MAX_BODY, b'"}'],  # too large to be a verification
        [b'{"code": "123456"', b', "more": true}'],
    ],
)
def test_anything_else_reaches_fastapi_with_its_whole_body(bank, pieces):
    bank.registered("alice")
    lane, behind = new_lane(bank)
    assert call(lane, "alice", pieces)[0] == 418
    assert behind.bodies == [b"".join(pieces)]


def test_other_routes_and_methods_pass_untouched(bank):
    lane, behind = new_lane(bank)
    assert call(lane, "alice", [b'{"code": "123456"}'], method="PUT")[0] == 418
    for user_id in ("alice/token", "alice/verify/again"):  # /users/alice/token/verify, ...
        assert call(lane, user_id, [b'{"code": "123456"}'])[0] == 418
    assert len(behind.bodies) == 3
