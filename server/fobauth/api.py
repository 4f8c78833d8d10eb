"""The HTTP JSON API under /api/v1 (FastAPI): the library's rules for a bank's backend.

Callers send ``Authorization: Bearer KEY``.  Requests are limited per
source address and, on routes about one user, per user.  Every refusal is
a 4xx with ``{"error": CODE, "message": TEXT}``; malformed input is 400
``bad_request``, never a 500.
"""

import asyncio
import concurrent.futures
import datetime
import functools
import hmac
import logging
import os
import sys
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import exc as sql_errors
from starlette.concurrency import run_in_threadpool as call
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from fobauth import apidoc, errors, settings
from fobauth.frontroute import GuardedApp, PlainRoute
from fobauth.handoff import Handoff
from fobauth.limits import ErrorAnswers
from fobauth.ratelimit import Rate, RateLimiter
from fobauth.seedbox import SeedKeyError
from fobauth.settings import (
    MAX_EXPIRING_DAYS,
    MAX_GROUP_CHECKS,
    MAX_ID_CHARS,
    MAX_PASSWORD_CHARS,
    MAX_TYPED_CHARS,
    PREFIX,
    ROLES,
)

DEFAULT_USER_RATE = Rate.parse(settings.DEFAULT_USER_RATE)
DEFAULT_SOURCE_RATE = Rate.parse(settings.DEFAULT_SOURCE_RATE)
log = logging.getLogger("fobauth.api")


def _printable(value):
    """Ids are printable text (fobauth.service makes no others); a NUL, which PostgreSQL cannot even
    compare with, would otherwise reach the database."""
    if not value.isprintable():
        raise ValueError("must be printable characters")
    return value


Printable = Annotated[str, AfterValidator(_printable)]
Identifier = Field(min_length=1, max_length=MAX_ID_CHARS)
Secret = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)
Code = Field(max_length=MAX_TYPED_CHARS)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NewUser(Body):
    user_id: Printable = Identifier
    customer_id: Printable = Identifier
    role: str = Field(json_schema_extra={"enum": list(ROLES)})
    password: str = Secret
    confirmation_password: str = Secret


class Registration(Body):
    serial: str = Field(max_length=MAX_TYPED_CHARS)
    code: str = Code


class Verification(Body):
    code: str = Code


class Resynchronisation(Body):
    first_code: str = Code
    second_code: str = Code


class Unlock(Body):
    admin_id: Printable = Identifier
    confirmation_password: str = Secret


class Revocation(Unlock):
    admin_code: str | None = Field(default=None, max_length=MAX_TYPED_CHARS)


class UserOut(BaseModel):
    user_id: str
    customer_id: str
    role: str
    serial: str | None
    suspended: bool
    failures: int
    must_register: bool
    cooldown_until: str | None


class UsersOut(BaseModel):
    users: list[UserOut]


class Verified(BaseModel):
    user_id: str
    verified: bool


class Imported(BaseModel):
    imported: list[str]


class ExpiringOut(BaseModel):
    serial: str
    expires_at: str
    user_ids: list[str]


class ExpiringList(BaseModel):
    tokens: list[ExpiringOut]


class ErrorOut(BaseModel):
    error: str
    message: str


def iso(unix_time):
    if unix_time is None:
        return None
    return datetime.datetime.fromtimestamp(unix_time, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_out(status):
    fields = dict(vars(status))
    fields["cooldown_until"] = iso(status.cooldown_until)
    return UserOut(**fields)


def invalid(fields):
    """The 400 for a request whose named parts (path parameters, body members, "body") are malformed."""
    return errors.BadRequest("invalid or missing: %s" % ", ".join(sorted(set(fields))))


def refusal(error):
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, errors.Unauthorized) else None
    if isinstance(error, errors.RateLimited) and error.retry_after:
        headers = {"Retry-After": str(max(1, round(error.retry_after)))}
    return JSONResponse({"error": error.code, "message": str(error)}, error.status, headers)


# SQLSTATE classes and codes of a database that is down, failing over or read-only for now.
_OUTAGE_SQLSTATES = ("08", "53", "57P", "25006")


def database_outage(error):
    """True for a database error that retrying later may cure: a lost or refused connection, an
    exhausted pool, a server shutting down, a read-only database (as during a failover).  Driver errors
    count as SQLAlchemy's do: the fast path (fobauth.hotpath) works on the driver's connection."""
    if isinstance(error, sql_errors.TimeoutError):
        return True
    if isinstance(error, sql_errors.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig
    kinds = {kind.__name__ for kind in type(error).__mro__}  # PEP 249 names, whichever driver
    sqlstate = getattr(error, "sqlstate", None) or ""
    return bool(kinds & {"OperationalError", "InterfaceError"}) or sqlstate.startswith(_OUTAGE_SQLSTATES)


def error_response(error):
    """The JSON answer to an exception a request raised: a refusal, a 503 during a database outage,
    or a logged 500.  Internal errors are logged by type only: their messages may quote stored data."""
    if isinstance(error, errors.AuthError):
        return refusal(error)
    if isinstance(error, SeedKeyError):
        log.error("%s", error)  # names the token, never its seed
        return JSONResponse({"error": "seed_unreadable", "message": "the token's seed cannot be opened"}, 500)
    if database_outage(error):
        log.error("database unavailable: %s", type(error).__name__)
        retry = {"Retry-After": str(settings.OUTAGE_RETRY_AFTER)}  # waiting helps here, not after a bug
        return JSONResponse({"error": "unavailable", "message": "the database is unavailable"}, 503, retry)
    log.error("internal error: %s", type(error).__name__)
    return JSONResponse({"error": "internal_error", "message": "internal error"}, 500)


class Gate:
    """What requests pass before any work: the per-source limit first, so that guessing API keys is
    throttled too, then the API key; requests checking a user's code also pass the per-user limit."""

    def __init__(self, api_key, user_rate, source_rate):
        self._expected = api_key.encode()
        self._per_user = RateLimiter(user_rate)
        self._per_source = RateLimiter(source_rate)

    def admit(self, source, authorization):
        """For fobauth.limits.Guard, before a request's body is read: the refusal of a source over its
        rate or of a missing or wrong key, else None.  The one comparison of the key, in constant time."""
        wait = self._per_source.acquire(source)
        if wait:
            return errors.RateLimited.after(wait)
        scheme, credentials = get_authorization_scheme_param(authorization)
        if not hmac.compare_digest(credentials.encode() if scheme.lower() == "bearer" else b"", self._expected):
            return errors.Unauthorized()
        return None

    def code_attempt(self, user_id):
        wait = self._per_user.acquire(user_id)
        if wait:
            raise errors.RateLimited.after(wait)


UserId = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS), AfterValidator(_printable)]
USER_ID = TypeAdapter(UserId)
CustomerId = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS), AfterValidator(_printable)]
HTTP_ERRORS = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
ERRORS = {status: {"model": ErrorOut} for status in (400, 401, 403, 404, 409, 413, 429)}


def _is_json(content_type):
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def parsed(model, request):
    """The request's JSON body validated by ``model``, or 400 as FastAPI answers malformed bodies."""
    if not _is_json(request.headers.get("content-type", "")):
        raise invalid(["body"])
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as error:
        raise invalid(".".join(map(str, e["loc"])) or "body" for e in error.errors()) from None


def _lowly():
    """Lower the CPU priority of the calling thread (the import thread), so an import's key derivation
    (up to about a second of CPU, fobauth.pskcimport) yields to verifications.  Linux schedules threads
    as tasks and lets setpriority name one by its id; elsewhere the call would renice the whole process."""
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def create_app(service, api_key, user_rate=DEFAULT_USER_RATE, source_rate=DEFAULT_SOURCE_RATE):
    """The ASGI application serving ``service`` to callers holding ``api_key``."""
    if not api_key:
        raise ValueError("an API key is required")
    gate = Gate(api_key, user_rate, source_rate)
    imports = concurrent.futures.ThreadPoolExecutor(1, "pskc-import", initializer=_lowly)
    bearer = HTTPBearer(auto_error=False)  # names the scheme in the OpenAPI document; Gate.admit checks the key

    # Dependencies and handlers are coroutines: cheap work stays on the event loop, and each request
    # makes one hop to the thread pool, for the blocking database call.
    async def code_attempt(user_id: UserId):
        """Routes that check a user's one-time password are also limited per user."""
        gate.code_attempt(user_id)

    app = GuardedApp(
        title="fobauth",
        description="Validation service for hardware OTP tokens: registration, one-time use, lockout, revocation.",
        version="1",
        openapi_url=PREFIX + "/openapi.json",
        docs_url=PREFIX + "/docs",
        redoc_url=None,
    )
    router = APIRouter(prefix=PREFIX, dependencies=[Depends(bearer)], responses=ERRORS)

    for kind in (errors.AuthError, SeedKeyError):  # other exceptions are answered by ErrorAnswers
        app.add_exception_handler(kind, lambda _request, error: error_response(error))

    @app.exception_handler(RequestValidationError)
    def validation_error(_request, error):
        return refusal(invalid(".".join(str(part) for part in e["loc"][1:]) or e["loc"][0] for e in error.errors()))

    @app.exception_handler(StarletteHTTPException)
    def http_error(_request, error):
        code = HTTP_ERRORS.get(error.status_code, "http_%d" % error.status_code)
        return JSONResponse({"error": code, "message": str(error.detail)}, error.status_code, error.headers)

    # Verification, the load a bank sends, is answered in front of FastAPI's layers (GuardedApp), in
    # groups (fobauth.handoff) on as many threads as the pool has database connections: more would only
    # queue for the pool and compete for the GIL (docs/server-performance.md).  A pool of no fixed size
    # (a NullPool a library caller passes in) gets as many as an executor would.
    pool_size = getattr(service.engine.pool, "size", None)
    threads = pool_size() if callable(pool_size) else min(32, (os.cpu_count() or 1) + 4)
    # The service's method is looked up for each group, so a test can put another in its place.
    verifier = Handoff(threads, "verify", lambda checks: service.check_many(checks), MAX_GROUP_CHECKS)

    async def verify(body: Verification, user_id: UserId) -> Verified:
        refusal = await verifier.call((user_id, [body.code], "verify", False))
        if refusal is not None:
            raise refusal
        return Verified(user_id=user_id, verified=True)

    async def answer_verify(request):
        """verify's handler: the path, the per-user limit (before the body is parsed), the body."""
        try:
            user_id = USER_ID.validate_python(request.path_params["user_id"])
        except ValidationError:
            raise invalid(["user_id"]) from None
        gate.code_attempt(user_id)
        verified = await verify(await parsed(Verification, request), user_id)
        return Response(verified.model_dump_json(), media_type="application/json")

    router.add_api_route(
        "/users/{user_id}/verify",
        verify,
        methods=["POST"],
        response_model=Verified,
        route_class_override=functools.partial(PlainRoute, handler=answer_verify),
    )
    app.front_route = router.routes[-1]

    @router.post(
        "/tokens/import",
        status_code=201,
        response_model=Imported,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def import_tokens(
        request: Request,
        x_pskc_password: Annotated[str | None, Header(max_length=MAX_PASSWORD_CHARS)] = None,
        x_pskc_key: Annotated[str | None, Header(pattern="^([0-9A-Fa-f]{32}|[0-9A-Fa-f]{48}|[0-9A-Fa-f]{64})$")] = None,
    ) -> Imported:
        """Import a PSKC (RFC 6030) document; all its tokens or none.  A protected one is opened by its
        password (X-PSKC-Password) or its pre-shared AES key in hex (X-PSKC-Key).  Imports take turns on
        one thread of their own, so key derivation never holds up verification."""
        if x_pskc_password and x_pskc_key:
            raise errors.BadRequest("give X-PSKC-Password or X-PSKC-Key, not both")
        # the Guard has read the body, refusing it past settings.MAX_PSKC_BYTES
        document = await request.body()
        psk = bytes.fromhex(x_pskc_key) if x_pskc_key else None
        run = functools.partial(service.import_pskc, document, x_pskc_password, "api", psk)
        serials = await asyncio.get_running_loop().run_in_executor(imports, run)
        return Imported(imported=serials)

    @router.post("/users", status_code=201, response_model=UserOut)
    async def create_user(body: NewUser) -> UserOut:
        fields = body.user_id, body.customer_id, body.role, body.password, body.confirmation_password
        return user_out(await call(service.create_user, *fields))

    @router.get("/users/{user_id}", response_model=UserOut)
    async def get_user(user_id: UserId) -> UserOut:
        return user_out(await call(service.status, user_id))

    @router.post("/users/{user_id}/token", response_model=UserOut, dependencies=[Depends(code_attempt)])
    async def register(body: Registration, user_id: UserId) -> UserOut:
        return user_out(await call(service.register, user_id, body.serial, body.code))

    @router.post("/users/{user_id}/token/skip", response_model=UserOut)
    async def skip(user_id: UserId) -> UserOut:
        return user_out(await call(service.skip_registration, user_id))

    @router.post("/users/{user_id}/token/resync", response_model=Verified, dependencies=[Depends(code_attempt)])
    async def resync(body: Resynchronisation, user_id: UserId) -> Verified:
        await call(service.resync, user_id, body.first_code, body.second_code)
        return Verified(user_id=user_id, verified=True)

    @router.get("/customers/{customer_id}/suspended-users", response_model=UsersOut)
    async def suspended_users(customer_id: CustomerId) -> UsersOut:
        return UsersOut(users=[user_out(status) for status in await call(service.suspended_users, customer_id)])

    @router.post("/users/{user_id}/unlock", response_model=UserOut)
    async def unlock(body: Unlock, user_id: UserId) -> UserOut:
        gate.code_attempt(body.admin_id)  # confirmation passwords are limited like codes
        await call(service.unlock, body.admin_id, user_id, body.confirmation_password)
        return user_out(await call(service.status, user_id))

    @router.post("/users/{user_id}/token/revoke", response_model=UserOut)
    async def revoke(body: Revocation, user_id: UserId) -> UserOut:
        gate.code_attempt(body.admin_id)
        return user_out(await call(service.revoke, body.admin_id, user_id, body.confirmation_password, body.admin_code))

    @router.get("/tokens/expiring", response_model=ExpiringList)
    async def expiring(days: Annotated[int, Query(ge=0, le=MAX_EXPIRING_DAYS)]) -> ExpiringList:
        return ExpiringList(
            tokens=[
                ExpiringOut(serial=t.serial, expires_at=iso(t.expires_at), user_ids=list(t.user_ids))
                for t in await call(service.expiring, days)
            ]
        )

    app.include_router(router)
    apidoc.without_422(app)
    open_paths = (app.openapi_url, app.docs_url, app.swagger_ui_oauth2_redirect_url)
    # outermost: around every route, the portal mounted later included
    app.guard_options = dict(prefix=PREFIX, open_paths=open_paths, admit=gate.admit, respond_error=error_response)
    # the innermost user middleware: exceptions go no further out (FastAPI's telemetry is further out)
    app.add_middleware(ErrorAnswers, respond_error=error_response)
    return app
