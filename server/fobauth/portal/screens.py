"""The portal's screens: login, one-time password, token registration, and user management
(unlock and revocation), rendered on the server from the library API (AuthService).

A login moves through stages kept in the signed session: the password
checked (``code`` or ``register`` stage, which must be finished within a
few minutes), then ``in``.  A user without a token is ``in`` after the
password, as the bank's guide has it: registration is offered, not forced.
"""

import logging
import math
import time
from pathlib import Path

from starlette._utils import get_route_path  # the path Starlette's router matches
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool as call
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from fobauth import entry, errors
from fobauth.portal import i18n, security
from fobauth.ratelimit import Rate, RateLimiter
from fobauth.settings import (
    ADMIN_ROLES,
    MAX_ID_CHARS,
    MAX_PASSWORD_CHARS,
    MAX_TYPED_CHARS,
    PORTAL_IDLE_SECONDS,
    PORTAL_PENDING_SECONDS,
    PORTAL_SOURCE_RATE,
    PORTAL_USER_RATE,
    PREFIX,
)

HERE = Path(__file__).parent
log = logging.getLogger("fobauth.portal")


class Portal:
    """The screens over one AuthService; ``clock`` is the service's clock (tests move both)."""

    def __init__(self, service, clock=time.time):
        self.service = service
        self.clock = clock
        self.per_user = RateLimiter(Rate.parse(PORTAL_USER_RATE))
        self.per_source = RateLimiter(Rate.parse(PORTAL_SOURCE_RATE))
        self.templates = Jinja2Templates(directory=HERE / "templates")

    # -- rendering --------------------------------------------------------------

    def page(self, request, template, http_status=200, **context):
        language = i18n.choose(request)
        session = request.session
        context.update(
            t=i18n.translator(language),
            lang=language,
            csrf=security.csrf_token(session),
            signed_in=session.get("stage") == "in",
            is_admin=session.get("stage") == "in" and session.get("role") in ADMIN_ROLES,
            errors=context.get("errors", {}),
            values=context.get("values", {}),
        )
        response = self.templates.TemplateResponse(request, template, context, status_code=http_status)
        if request.query_params.get("lang") in i18n.LANGUAGES:
            response.set_cookie(i18n.COOKIE, language, max_age=365 * 86400, secure=True, httponly=True, samesite="lax")
        return response

    def message(self, request, title, text, http_status=200, link="/login"):
        return self.page(request, "message.html", http_status, title=title, text=text, link=link)

    def t(self, request):
        return i18n.translator(i18n.choose(request))

    @staticmethod
    def go(path):
        return RedirectResponse(path, status_code=303)

    # -- session stages -----------------------------------------------------------

    def pending(self, request, stage):
        """The user id waiting at ``stage`` (code or register), or None when there is none or it went stale."""
        session = request.session
        if session.get("stage") != stage:
            return None
        if self.clock() - session.get("since", 0) > PORTAL_PENDING_SECONDS:
            session.clear()
            return None
        return session.get("user")

    def begin(self, request, status, stage):
        session = request.session
        session.clear()  # a fresh CSRF token for the signed-in session
        session.update(user=status.user_id, role=status.role, customer=status.customer_id, stage=stage)
        session["since"] = self.clock()

    def limited(self, request, user_id):
        """True when this user id or this source has made too many password attempts."""
        source = request.client.host if request.client else "unknown"
        waits = [self.per_source.acquire(source), self.per_user.acquire(user_id)]
        return any(waits)

    async def signed_in_status(self, request):
        """The signed-in user's status; None (and the session ended) when the user no longer exists."""
        try:
            return await call(self.service.status, request.session["user"])
        except errors.UnknownUser:
            request.session.clear()
            return None

    async def admin(self, request):
        """The signed-in master or administrator's status, or a 403."""
        if request.session.get("stage") != "in":
            raise HTTPException(403)
        status = await self.signed_in_status(request)
        if status is None or status.role not in ADMIN_ROLES or status.suspended:
            raise HTTPException(403)
        return status

    # -- login ----------------------------------------------------------------------

    async def top(self, request):
        status = await self.signed_in_status(request) if request.session.get("stage") == "in" else None
        if status is None:
            return self.go("/login")
        minutes = None
        if status.cooldown_until:
            minutes = max(1, math.ceil((status.cooldown_until - self.clock()) / 60))
        registered = request.session.pop("registered", False)
        return self.page(request, "top.html", status=status, minutes=minutes, registered=registered)

    async def login(self, request):
        if request.method == "GET":
            if request.session.get("stage") == "in":
                return self.go("/")
            return self.page(request, "login.html", expired=request.query_params.get("expired") == "1")
        form = await security.read_form(request)
        t = self.t(request)
        problems = {}
        user_id = _field(form, "user_id", MAX_ID_CHARS, problems, t).strip()
        password = _field(form, "password", MAX_PASSWORD_CHARS, problems, t)
        values = {"user_id": user_id if len(user_id) <= MAX_ID_CHARS else ""}
        if problems:
            return self.page(request, "login.html", 400, errors=problems, values=values)
        if self.limited(request, user_id):
            return self.page(request, "login.html", 429, failure=t("error.rate_limited"), values=values)
        if not await call(self.service.check_login, user_id, password):
            return self.page(request, "login.html", 401, failure=t("login.failed"), values=values)
        status = await call(self.service.status, user_id)
        if status.suspended:
            request.session.clear()
            return self.message(request, t("suspended.title"), t("suspended.text"), 403)
        if status.serial:
            self.begin(request, status, "code")
            return self.go("/login/code")
        if status.must_register:
            self.begin(request, status, "register")
            return self.go("/register")
        self.begin(request, status, "in")  # revoked, waiting out the cool-down
        return self.go("/")

    async def code(self, request):
        user_id = self.pending(request, "code")
        if user_id is None:
            return self.go("/login?expired=1")
        if request.method == "GET":
            return self.page(request, "code.html")
        form = await security.read_form(request)
        t = self.t(request)
        problems = {}
        code = _field(form, "code", MAX_TYPED_CHARS, problems, t)
        if not problems:
            try:
                await call(self.service.verify, user_id, code)
            except errors.Suspended:
                request.session.clear()
                return self.message(request, t("suspended.title"), t("suspended.text"), 403)
            except errors.NotRegistered:  # revoked while typing
                request.session.clear()
                return self.go("/login")
            except (errors.BadCode, errors.InvalidCode, errors.Replayed, errors.Expired) as refusal:
                problems["code"] = t("error." + refusal.code)
        if problems:
            return self.page(request, "code.html", 400, errors=problems)
        request.session["stage"] = "in"
        return self.go("/")

    async def register(self, request):
        user_id = self.pending(request, "register")
        if user_id is None:
            return self.go("/login?expired=1")
        if request.method == "GET":
            return self.page(request, "register.html")
        form = await security.read_form(request)
        t = self.t(request)
        if form.get("action") == "skip":
            try:
                await call(self.service.skip_registration, user_id)
            except errors.AlreadyRegistered:
                pass
            request.session["stage"] = "in"
            return self.go("/")
        problems = {}
        serial = _field(form, "serial", MAX_TYPED_CHARS, problems, t)
        code = _field(form, "code", MAX_TYPED_CHARS, problems, t)
        if "serial" not in problems:
            try:
                serial = entry.serial(serial)
            except errors.BadSerial:
                problems["serial"] = t("error.bad_serial")
        values = {"serial": serial if len(serial) <= MAX_TYPED_CHARS else ""}
        if not problems:
            try:
                status = await call(self.service.register, user_id, serial, code)
            except errors.Suspended:
                request.session.clear()
                return self.message(request, t("suspended.title"), t("suspended.text"), 403)
            except errors.AlreadyRegistered:
                request.session.clear()
                return self.go("/login")
            except errors.RevokedCooldown:
                problems["form"] = t("error.revoked_cooldown", minutes=self.cooldown_minutes)
            except (errors.UnknownToken, errors.Forbidden) as refusal:
                key = "error.unknown_token" if refusal.code == "unknown_token" else "error.forbidden_token"
                problems["serial"] = t(key)
            except (errors.BadCode, errors.InvalidCode, errors.Replayed, errors.Expired) as refusal:
                problems["code"] = t("error." + refusal.code)
            else:
                request.session["stage"] = "in"
                request.session["registered"] = status.serial
                return self.go("/")
        return self.page(request, "register.html", 400, errors=problems, values=values)

    async def logout(self, request):
        await security.read_form(request)
        request.session.clear()
        return self.go("/login")

    # -- management -----------------------------------------------------------------

    @property
    def cooldown_minutes(self):
        return round(self.service.policy.revocation_cooldown / 60)

    async def manage(self, request):
        await self.admin(request)
        return self.page(request, "manage.html")

    async def manage_users(self, request):
        await self.admin(request)
        return self.page(request, "manage_users.html")

    def confirmation(self, request, admin, form, problems, t):
        """The chosen target and the confirmation password from ``form``, with field problems noted."""
        target = form.get("target", "")
        if not target or len(target) > MAX_ID_CHARS:
            problems["target"] = t("field.choose")
        password = _field(form, "confirmation_password", MAX_PASSWORD_CHARS, problems, t)
        if not problems and self.limited(request, admin.user_id):
            problems["confirmation_password"] = t("error.rate_limited")
        return target, password

    async def unlock(self, request):
        admin = await self.admin(request)
        suspended = await call(self.service.suspended_users, admin.customer_id)
        if request.method == "GET":
            return self.page(request, "unlock.html", users=suspended)
        form = await security.read_form(request)
        t = self.t(request)
        problems = {}
        target, password = self.confirmation(request, admin, form, problems, t)
        if not problems and target not in {user.user_id for user in suspended}:
            problems["target"] = t("field.choose")
        if not problems:
            try:
                await call(self.service.unlock, admin.user_id, target, password)
            except errors.Forbidden:
                problems["confirmation_password"] = t("error.bad_confirmation")
            except (errors.NotSuspended, errors.UnknownUser):
                problems["target"] = t("error.not_suspended")
            else:
                return self.page(
                    request, "done.html", title=t("unlock.done.title"), lines=[t("unlock.done.text", user=target)]
                )
        return self.page(request, "unlock.html", 400, users=suspended, errors=problems, values={"target": target})

    async def revoke(self, request):
        admin = await self.admin(request)
        members = await call(self.service.members, admin.customer_id)
        holders = [member for member in members if member.serial and member.user_id != admin.user_id]
        context = {"users": holders, "needs_code": admin.serial is not None}
        if request.method == "GET":
            return self.page(request, "revoke.html", **context)
        form = await security.read_form(request)
        t = self.t(request)
        problems = {}
        target, password = self.confirmation(request, admin, form, problems, t)
        code = _field(form, "code", MAX_TYPED_CHARS, problems, t) if admin.serial else None
        chosen = [member for member in holders if member.user_id == target]
        if "target" not in problems and not chosen:
            problems["target"] = t("field.choose")
        if not problems:
            try:
                await call(self.service.revoke, admin.user_id, target, password, code)
            except errors.Forbidden:
                problems["confirmation_password"] = t("error.bad_confirmation")
            except errors.Suspended:
                request.session.clear()
                return self.message(request, t("suspended.title"), t("suspended.text"), 403)
            except (errors.BadCode, errors.InvalidCode, errors.Replayed, errors.Expired) as refusal:
                problems["code"] = t("error." + refusal.code)
            except (errors.NotRegistered, errors.UnknownUser):
                problems["target"] = t("error.not_registered")
            else:
                minutes = self.cooldown_minutes
                lines = [
                    t("revoke.done.text", user=target, serial=chosen[0].serial),
                    t("revoke.done.wait", minutes=minutes),
                ]
                return self.page(request, "done.html", title=t("revoke.done.title"), lines=lines)
        return self.page(request, "revoke.html", 400, errors=problems, values={"target": target}, **context)

    # -- errors ---------------------------------------------------------------------

    async def refused_form(self, request, error):
        t = self.t(request)
        text = {"csrf": t("error.csrf"), "too_large": t("error.too_large")}.get(error.reason, t("error.csrf"))
        return self.message(request, t("error.title"), text, error.status)

    async def http_error(self, request, error):
        if get_route_path(request.scope).startswith(PREFIX + "/"):  # an API caller mistyped a route: as the API
            return JSONResponse({"error": "not_found", "message": "Not Found"}, 404)
        t = self.t(request)
        texts = {403: "error.forbidden_page", 404: "error.not_found"}
        text = t(texts.get(error.status_code, "error.not_found"))
        link = "/" if request.session.get("stage") == "in" else "/login"
        return self.message(request, t("error.title"), text, error.status_code, link)

    async def internal_error(self, request, error):
        log.error("portal error: %s", type(error).__name__)  # the message might quote stored data
        t = self.t(request)
        return self.message(request, t("error.title"), t("error.internal"), 500)


def _field(form, name, limit, problems, t):
    """A required field as typed (passwords may have spaces; entry.py folds serials and codes); a missing,
    blank or over-long one is noted in ``problems``."""
    value = form.get(name, "")
    if not value.strip():
        problems[name] = t("field.required")
    elif len(value) > limit:
        problems[name] = t("field.too_long")
    return value


def create_portal(service, api_key, clock=time.time):
    """The portal as an ASGI app, its sessions signed with a key derived from ``api_key``."""
    portal = Portal(service, clock)
    both = ["GET", "POST"]
    routes = [
        Route("/", portal.top),
        Route("/login", portal.login, methods=both),
        Route("/login/code", portal.code, methods=both),
        Route("/register", portal.register, methods=both),
        Route("/logout", portal.logout, methods=["POST"]),
        Route("/manage", portal.manage),
        Route("/manage/users", portal.manage_users),
        Route("/manage/unlock", portal.unlock, methods=both),
        Route("/manage/revoke", portal.revoke, methods=both),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(security.SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=security.session_key(api_key),
            session_cookie=security.SESSION_COOKIE,
            max_age=PORTAL_IDLE_SECONDS,
            same_site="lax",
            https_only=True,
        ),
    ]
    handlers = {
        security.FormRejected: portal.refused_form,
        HTTPException: portal.http_error,
        Exception: portal.internal_error,
    }
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)


def mount(app, service, api_key, clock=time.time):
    """Serve the portal at "/" of ``app`` (the JSON API keeps /api/v1, matched first).  Returns ``app``."""
    app.mount("/", create_portal(service, api_key, clock))
    return app
