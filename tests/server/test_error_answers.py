"""Exceptions stay inside the app: each becomes the API's JSON answer, and none reaches FastAPI's
exception telemetry (which would export its message and traceback to an OpenTelemetry log, where a
database statement's text could be quoted) or the server's log as a traceback."""

import logging

import fastapi.telemetry._asgi as telemetry
import pytest

from fobauth import api
from fobauth.settings import PREFIX


def broken(*_args):
    raise RuntimeError("stored data")


@pytest.fixture
def exported(monkeypatch):
    """The exceptions FastAPI's telemetry would have exported."""
    seen = []
    monkeypatch.setattr(telemetry, "_exception", lambda *, scope, exc: seen.append(type(exc).__name__))
    return seen


@pytest.mark.parametrize("method, path, body", [("GET", "/users/alice", None), ("POST", "/users/alice/verify", {})])
def test_no_exception_reaches_fastapis_telemetry(bank, client, monkeypatch, exported, method, path, body):
    bank.registered("alice")
    monkeypatch.setattr(bank.service, "status", broken)
    monkeypatch.setattr(bank.service, "check_many", broken)
    response = client.request(method, PREFIX + path, json={"code": "123456"} if body is not None else None)
    assert (response.status_code, response.json()) == (500, {"error": "internal_error", "message": "internal error"})
    assert exported == []


def test_an_error_after_the_answer_began_is_logged_by_type(bank, client, monkeypatch, caplog):
    class BreaksAfterItsHead(api.Response):
        async def __call__(self, scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise RuntimeError("stored data")

    bank.registered("alice")
    monkeypatch.setattr(api, "Response", BreaksAfterItsHead)
    with caplog.at_level(logging.ERROR):
        client.post(PREFIX + "/users/alice/verify", json={"code": bank.code("12345678")})
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("fobauth.limits", "error after the answer: RuntimeError")
    ]
