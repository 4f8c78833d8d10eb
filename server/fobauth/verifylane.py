"""POST /api/v1/users/{user_id}/verify, the route that carries the load, without FastAPI's per-request work.

FastAPI's routing, dependency solving and model validation cost more CPU per
request than the verification itself (measured with benchmarks/server.py
under py-spy).  ``VerifyLane`` is an ASGI middleware in front of the
FastAPI app: a well-formed verification (an ``application/json`` body that
is exactly ``{"code": "..."}`` with at most 64 characters, for a user id of
1 to 64 characters) is answered here, through the same gate (per-source
limit, API key, per-user limit), service call and responses as the route.
Everything else goes on to FastAPI unchanged, which validates, refuses and
documents it: the OpenAPI document keeps describing the route.
"""

import asyncio
import concurrent.futures
import json
import re

from fastapi.security.utils import get_authorization_scheme_param
from starlette.responses import JSONResponse

from fobauth.schema import ID_LENGTH

MAX_BODY = 1024  # larger bodies, well-formed or not, are FastAPI's to answer
MAX_CODE = 64


def _header(scope, name):
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _code(scope, body):
    """The code of a well-formed verification body, else None."""
    media_type = (_header(scope, b"content-type") or "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if type(document) is not dict or document.keys() != {"code"}:
        return None
    code = document["code"]
    return code if type(code) is str and len(code) <= MAX_CODE else None


async def _read_body(receive):
    """The request's messages as received, and the body they carry if it is complete and small."""
    messages, body = [], b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, body


def _replaying(messages, receive):
    """``receive`` for the app behind: the messages already read first, then the rest."""

    async def replay():
        return messages.pop(0) if messages else await receive()

    return replay


class VerifyLane:
    """The ASGI middleware; ``gate`` is the API's fobauth.api.Gate, ``respond_error(exception)`` its
    error responses."""

    def __init__(self, app, prefix, service, gate, respond_error):
        self.app = app
        self._route = re.compile(re.escape(prefix) + "/users/([^/]+)/verify")
        self._service = service
        self._gate = gate
        self._respond_error = respond_error
        # As many threads as database connections (more would only queue for the pool; a pool without a
        # fixed size gets the executor's default).  asyncio's executor costs less per call than
        # Starlette's thread pool (anyio's limiter and cancel scopes).
        size = getattr(service.engine.pool, "size", None)
        self._executor = concurrent.futures.ThreadPoolExecutor(size() if callable(size) else None, "verify")

    async def __call__(self, scope, receive, send):
        route = scope["type"] == "http" and scope["method"] == "POST" and self._route.fullmatch(scope["path"])
        if not route:
            return await self.app(scope, receive, send)
        messages, body = await _read_body(receive)
        user_id = route.group(1)
        code = None if body is None or len(user_id) > ID_LENGTH else _code(scope, body)
        if code is None:
            return await self.app(scope, _replaying(messages, receive), send)
        scheme, credentials = get_authorization_scheme_param(_header(scope, b"authorization"))
        source = scope["client"][0] if scope.get("client") else "unknown"
        try:
            self._gate.admit(source, credentials if scheme.lower() == "bearer" else "")
            self._gate.code_attempt(user_id)
            await asyncio.get_running_loop().run_in_executor(self._executor, self._service.verify, user_id, code)
            response = JSONResponse({"user_id": user_id, "verified": True})
        except Exception as error:
            response = self._respond_error(error)
        await response(scope, receive, send)
