"""What a client may make the server hold, enforced before any parsing or authentication work.

Two layers, with the numbers in fobauth.settings:

* ``LimitedHttpTools``, uvicorn's httptools protocol with a cap on the bytes of the request line
  and headers as they arrive: httptools itself buffers a header of any length, so a cap applied
  once the ASGI app sees the request would come after the memory was spent.
* ``Guard``, a pure ASGI middleware around the whole app, whatever routes it has: it refuses long
  request lines (414) and many or large headers (431); refuses API requests without the right key
  (401, or 429 once the address has sent too many) before their body is read; answers 503 with
  Retry-After, again before reading the body, when the process already works on ``MAX_IN_FLIGHT``
  requests; reads the body itself, counting the bytes that arrive, whatever Content-Length says
  or whether it is chunked, and refuses it (413) as soon as it passes the route's cap.  Paths are
  judged as the routes see them: without the root path a proxy mounts the service under.
* ``ErrorAnswers`` turns any exception of the app into the API's error answer, so that no
  traceback (which may quote a database statement) is logged or exported.  The Guard has one in
  front of what it guards, and fobauth.api puts one inside FastAPI's own layers, so that no
  exception reaches FastAPI's exception telemetry either.
"""

import json
import logging

from starlette._utils import get_route_path  # the path Starlette's router matches (FastAPI uses it too)
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from fobauth import balance, settings
from fobauth.onewrite import HeadJoined

log = logging.getLogger("fobauth.limits")


class LimitedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request whose line and headers pass MAX_HEAD_BYTES; with
    several workers, also ending connections of a worker holding more than its share (fobauth.balance);
    each response's head and body go out in one write (fobauth.onewrite)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._head_bytes = 0  # of the request whose head is arriving
        self._in_head = True
        self._completed = 0  # requests read whole on this connection
        self._counts = balance.worker_counts()

    def connection_made(self, transport):
        super().connection_made(transport)
        if self._counts:
            self._counts.opened()

    def connection_lost(self, exc):
        super().connection_lost(exc)
        if self._counts:
            self._counts.closed()

    def on_headers_complete(self):
        self._in_head = False
        super().on_headers_complete()
        cycle = self.cycle
        if self._counts and cycle and cycle.keep_alive and not cycle.response_complete and self._counts.crowded():
            cycle.keep_alive = False  # answered with Connection: close; the client reconnects elsewhere
        if cycle is not None and cycle.transport is self.transport:  # a new request's response
            cycle.transport = HeadJoined(self.transport, self.loop)

    def on_message_complete(self):
        super().on_message_complete()
        self._head_bytes, self._in_head = 0, True
        self._completed += 1

    def data_received(self, data):
        while self._in_head and len(data) > settings.MAX_HEAD_BYTES - self._head_bytes:
            room = settings.MAX_HEAD_BYTES - self._head_bytes
            completed = self._completed
            self._head_bytes = settings.MAX_HEAD_BYTES
            super().data_received(data[:room])
            if self.transport.is_closing():
                return
            if self._in_head and self._completed == completed:  # still the same head, and no room left
                self._refuse_head()
                return
            data = data[room:]  # the head ended (a pipelined request's may have begun: counted from here)
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)

    def _refuse_head(self):
        if len(getattr(self, "url", b"")) > settings.MAX_URL_BYTES:  # set by on_message_begin
            status = b"414 URI Too Long"
        else:
            status = b"431 Request Header Fields Too Large"
        self.transport.write(b"HTTP/1.1 %s\r\ncontent-length: 0\r\nconnection: close\r\n\r\n" % status)
        self.transport.close()


def uvicorn_options(trusted_proxies=None):
    """uvicorn.run's keyword arguments for these limits, and the proxies whose X-Forwarded-For is believed."""
    options = {
        "http": "fobauth.limits:LimitedHttpTools",
        "h11_max_incomplete_event_size": settings.MAX_HEAD_BYTES,
        "limit_concurrency": settings.MAX_CONNECTIONS,
        "proxy_headers": bool(trusted_proxies),
    }
    if trusted_proxies:
        options["forwarded_allow_ips"] = trusted_proxies
    return options


def _answer(status, error, message, *headers):
    """A complete JSON answer that also ends the connection (its body may still be arriving)."""
    body = json.dumps({"error": error, "message": message}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"connection", b"close"),
            *headers,
        ],
    }
    return start, {"type": "http.response.body", "body": body}


def _head_refusal(scope):
    if len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") > settings.MAX_URL_BYTES:
        return _answer(414, "uri_too_long", "the request line must be at most %d bytes" % settings.MAX_URL_BYTES)
    headers = scope["headers"]
    if len(headers) > settings.MAX_HEADERS or sum(len(k) + len(v) for k, v in headers) > settings.MAX_HEADER_BYTES:
        return _answer(
            431,
            "headers_too_large",
            "at most %d headers of %d bytes in all" % (settings.MAX_HEADERS, settings.MAX_HEADER_BYTES),
        )
    return None


def _content_length(scope):
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class Guard:
    """The ASGI middleware.  ``admit(source, authorization)`` is the AuthError refusing an API request
    (the source over its rate, a missing or wrong key), else None: the one check of the key;
    ``respond_error(exception)`` the API's answer to an exception."""

    def __init__(self, app, prefix, open_paths, admit, respond_error):
        self.app = ErrorAnswers(app, respond_error)
        self._prefix = prefix + "/"
        self._open_paths = frozenset(open_paths)
        self._admit = admit
        self._body_limits = {prefix + "/tokens/import": settings.MAX_PSKC_BYTES}
        self._in_flight = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refusal = _head_refusal(scope) or self._admission(scope)
        if refusal:
            return await _send_all(send, refusal)
        limit = self._body_limits.get(get_route_path(scope), settings.MAX_BODY_BYTES)
        length = _content_length(scope)
        if length is not None and length > limit:
            return await _send_all(send, _too_large(limit))
        if self._in_flight >= settings.MAX_IN_FLIGHT:  # before the body: a busy process reads none of it
            retry = (b"retry-after", b"%d" % settings.OVERLOAD_RETRY_AFTER)
            return await _send_all(send, _answer(503, "overloaded", "the server is busy; retry later", retry))
        self._in_flight += 1
        try:
            messages = await _read_body(receive, limit)
            if messages is None:
                return await _send_all(send, _too_large(limit))
            await self._call_app(scope, messages, receive, send)
        finally:
            self._in_flight -= 1

    def _admission(self, scope):
        path = get_route_path(scope)
        if not path.startswith(self._prefix) or path in self._open_paths:
            return None
        authorization = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
        source = scope["client"][0] if scope.get("client") else "unknown"
        error = self._admit(source, authorization.decode("latin-1"))
        if error is None:
            return None
        headers = [(b"www-authenticate", b"Bearer")] if error.status == 401 else []
        if getattr(error, "retry_after", None):
            headers.append((b"retry-after", b"%d" % max(1, round(error.retry_after))))
        return _answer(error.status, error.code, str(error), *headers)

    async def _call_app(self, scope, messages, receive, send):
        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


class ErrorAnswers:
    """ASGI: an exception of ``app`` becomes ``respond_error(exception)``'s answer; one raised after the
    answer began (the portal's own error page, raised again for the server) is logged by its type and
    goes no further."""

    def __init__(self, app, respond_error):
        self.app = app
        self._respond_error = respond_error

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message):
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            if started:
                log.error("error after the answer: %s", type(error).__name__)
                return
            await self._respond_error(error)(scope, receive, send)


def _too_large(limit):
    return _answer(413, "too_large", "the request body must be at most %d bytes" % limit)


async def _read_body(receive, limit):
    """The request's messages, or None as soon as their bodies pass ``limit`` bytes."""
    messages, size = [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return messages


async def _send_all(send, messages):
    for message in messages:
        await send(message)
