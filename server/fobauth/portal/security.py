"""The portal's browser-facing defences: signed session cookies, CSRF tokens, bounded form bodies,
and headers that keep pages with account data out of caches and frames.

The session cookie is signed (itsdangerous, via Starlette's SessionMiddleware)
with a key derived from the service's API key, so every worker of
`fob serve --workers N` accepts the others' sessions without another secret
to configure.  It holds only the user id, the login stage and the CSRF
token: never a password, code or seed.
"""

import hashlib
import hmac
import secrets
import urllib.parse

from fobauth.settings import MAX_BODY_BYTES, MAX_FORM_FIELDS

SESSION_COOKIE = "fob_session"
HEADERS = [
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
]


class FormRejected(Exception):
    """The form cannot be accepted: ``reason`` is "csrf", "too_large" or "malformed"."""

    def __init__(self, reason, status):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def session_key(api_key):
    """The session-signing key: derived from the API key, never the API key itself."""
    return hmac.new(api_key.encode(), b"fobauth portal session", hashlib.sha256).hexdigest()


def csrf_token(session):
    """This session's CSRF token, created on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


async def read_form(request):
    """The urlencoded form of ``request`` as a dict, after checking its size and its CSRF token.  Behind
    `fob serve` the Guard (fobauth.limits) has already refused a body over the same MAX_BODY_BYTES; this
    check holds for a portal served on its own (``create_portal``)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise FormRejected("malformed", 400)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise FormRejected("too_large", 413)
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise FormRejected("malformed", 400) from None
    form = dict(pairs)
    expected = request.session.get("csrf")
    given = form.pop("csrf", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise FormRejected("csrf", 403)
    return form


class SecurityHeaders:
    """ASGI middleware adding HEADERS to every response of the wrapped app."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
