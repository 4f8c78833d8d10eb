"""Hostile HTTP clients: what a request may carry is capped before any parsing or authentication work,
and a caller without the API key gets 401 before its body is read.  Memory is measured on a real
`fob serve` (uvicorn) process, as the peak resident size the kernel records for it."""

import asyncio
import re
import socket
from pathlib import Path

import httpx
import pytest

from fobauth import settings
from fobauth.limits import Guard
from fobhost.cli import main

V1 = "/api/v1"
API_KEY = "hostile-test-api-key-0123"
HUGE = 32 << 20  # bytes sent by the memory tests: far above every limit, quick on the loopback
ALLOWED_GROWTH = 8 << 20  # "a few MiB": buffers of one request, never its whole body


def test_a_malformed_body_without_the_key_is_401_not_400(client):
    client.headers.pop("Authorization")
    response = client.post(V1 + "/users", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


@pytest.mark.parametrize("path", ["/users", "/users/alice/verify", "/users/alice/unlock"])
def test_json_bodies_over_the_limit_are_413_even_chunked(client, path):
    def chunks():  # no Content-Length: the guard counts what arrives
        for _ in range(4):
            yield b" " * (settings.MAX_BODY_BYTES // 2)

    response = client.post(V1 + path, content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_a_declared_length_over_the_limit_is_413_before_the_body(client):
    body = b"{}" + b" " * settings.MAX_BODY_BYTES
    response = client.post(V1 + "/users", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_pskc_import_has_its_own_larger_limit(client):
    document = b"<a>" + b" " * (settings.MAX_BODY_BYTES * 4) + b"</a>"
    response = client.post(V1 + "/tokens/import", content=document)
    assert response.status_code == 400 and response.json()["error"] == "bad_pskc"
    too_big = b"<a>" + b" " * settings.MAX_PSKC_BYTES + b"</a>"
    assert client.post(V1 + "/tokens/import", content=too_big).status_code == 413


def test_portal_forms_are_capped_too(client):
    response = client.post("/login", content=b"x" * (settings.MAX_BODY_BYTES + 1))
    assert response.status_code == 413


def test_a_long_request_line_is_414(client):
    response = client.get(V1 + "/users/" + "a" * settings.MAX_URL_BYTES)
    assert response.status_code == 414 and response.json()["error"] == "uri_too_long"


def test_many_or_large_headers_are_431(client):
    many = {"X-Filler-%d" % i: "1" for i in range(settings.MAX_HEADERS)}
    assert client.get(V1 + "/users/alice", headers=many).status_code == 431
    large = {"X-Filler": "1" * settings.MAX_HEADER_BYTES}
    response = client.get(V1 + "/users/alice", headers=large)
    assert response.status_code == 431 and response.json()["error"] == "headers_too_large"


# -- memory of a real server --------------------------------------------------------------------


def peak_rss(pid):
    """The process's peak resident set size in bytes (VmHWM of /proc/PID/status)."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM for process %d" % pid)


def send_raw(port, head, body_size=0):
    """Send ``head`` and ``body_size`` bytes of body; the status line the server answered, or "" if it
    only closed the connection.  The server may stop reading early: that is the point."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        try:
            connection.sendall(head)
            block = b" " * (1 << 20)
            for _ in range(body_size // len(block)):
                connection.sendall(block)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            return connection.recv(65536).split(b"\r\n", 1)[0].decode()
        except ConnectionResetError:
            return ""


def head(path, *headers):
    lines = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


AUTHORISED = "Authorization: Bearer " + API_KEY
ATTACKS = {
    "no key, declared length": (head(V1 + "/users", "Content-Length: %d" % HUGE), HUGE, "401"),
    "no key, chunked": (head(V1 + "/users", "Transfer-Encoding: chunked"), HUGE, "401"),
    "key, chunked JSON": (head(V1 + "/users", AUTHORISED, "Transfer-Encoding: chunked"), HUGE, "413"),
    "key, chunked PSKC": (head(V1 + "/tokens/import", AUTHORISED, "Transfer-Encoding: chunked"), HUGE, "413"),
    "portal form": (head("/login", "Content-Length: %d" % HUGE), HUGE, "413"),
    "huge header": (head(V1 + "/users", "Authorization: Bearer " + "a" * HUGE), 0, "431"),
    "huge URL": (head(V1 + "/users/" + "a" * HUGE), 0, "414"),
}


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_a_hostile_client_cannot_make_the_server_allocate_its_request(fob_serve, tmp_path, attack):
    request_head, body_size, status = ATTACKS[attack]
    if body_size and b"chunked" in request_head:
        request_head += b"%x\r\n" % body_size  # one chunk, as large as the whole upload
    storage = ["--db", "sqlite:///%s" % (tmp_path / "db"), "--seed-key-file", str(tmp_path / "key")]
    server = fob_serve(*storage, FOB_API_KEY=API_KEY)
    warm = httpx.get(server.base + "/users/nobody", headers={"Authorization": "Bearer " + API_KEY})
    assert warm.status_code == 404  # every import and first allocation done
    before = peak_rss(server.process.pid)
    answer = send_raw(server.port, request_head, body_size)
    growth = peak_rss(server.process.pid) - before
    assert growth < ALLOWED_GROWTH, "the server grew by %.1f MiB" % (growth / 2**20)
    assert answer == "" or answer.split()[1] == status, answer


# -- overload and proxies -----------------------------------------------------------------------


def test_a_busy_process_answers_503_with_retry_after(monkeypatch):
    monkeypatch.setattr(settings, "MAX_IN_FLIGHT", 2)
    refused, answered = asyncio.run(three_requests_two_slots())
    assert refused.status_code == 503 and refused.json()["error"] == "overloaded"
    assert int(refused.headers["Retry-After"]) >= 1
    assert [r.status_code for r in answered] == [200, 200]


async def three_requests_two_slots():
    """Two requests the app holds until a third has been answered, through the Guard."""
    release, both_in = asyncio.Event(), asyncio.Event()
    inside = []

    async def slow_app(scope, receive, send):
        inside.append(scope["path"])
        if len(inside) == 2:
            both_in.set()
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    guard = Guard(slow_app, V1, (), admit=lambda source, key: None, respond_error=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(guard), base_url="http://fob") as client:
        working = [asyncio.create_task(client.get(V1 + "/users/u%d" % i)) for i in range(2)]
        await both_in.wait()
        refused = await client.get(V1 + "/users/u3")
        release.set()
        return refused, await asyncio.gather(*working)


def test_a_busy_process_refuses_before_reading_the_body(monkeypatch):
    """A client whose body never ends (as a slow or huge upload) is told 503 without a byte of it read."""
    monkeypatch.setattr(settings, "MAX_IN_FLIGHT", 0)
    read, sent = [], []

    async def receive():
        read.append(True)
        await asyncio.Event().wait()  # the body never arrives

    async def send(message):
        sent.append(message)

    def app(scope, receive, send):
        raise AssertionError("the app was called")

    guard = Guard(app, V1, (), admit=lambda source, key: None, respond_error=None)
    scope = {"type": "http", "path": V1 + "/users", "raw_path": b"", "query_string": b"", "headers": []}
    asyncio.run(asyncio.wait_for(guard(scope, receive, send), 10))  # a deadlock guard, not a timing
    assert sent[0]["status"] == 503 and read == []


def per_address_statuses(server, forwarded_for):
    auth = {"Authorization": "Bearer " + API_KEY}
    return [
        httpx.get(server.base + "/users/nobody", headers={**auth, "X-Forwarded-For": address}).status_code
        for address in forwarded_for
    ]


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(fob_serve, tmp_path):
    storage = ["--db", "sqlite:///%s" % (tmp_path / "db"), "--seed-key-file", str(tmp_path / "key")]
    proxied = fob_serve(*storage, "--source-rate", "2/60", "--trusted-proxy", "127.0.0.1", FOB_API_KEY=API_KEY)
    addresses = ["10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2"]
    assert per_address_statuses(proxied, addresses) == [404, 404, 429, 404, 404]
    direct = fob_serve(*storage, "--source-rate", "2/60", FOB_API_KEY=API_KEY)
    assert per_address_statuses(direct, addresses) == [404, 404, 429, 429, 429]


@pytest.mark.parametrize("value", ["proxy.example", "10.0.0.300", "*"])
def test_a_malformed_trusted_proxy_is_refused_before_anything_is_created(tmp_path, capsys, value):
    files = ["--db", "sqlite:///%s" % (tmp_path / "db"), "--seed-key-file", str(tmp_path / "key")]
    assert main(["serve", *files, "--api-key-file", str(tmp_path / "api.key"), "--trusted-proxy", value]) == 2
    assert "not an IP address" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_documented_limits_are_the_settings():
    """Every number in fobauth.settings is a limit, listed once in docs/server.md with its value."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "server.md").read_text()
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \| (\d+) \|", doc, re.MULTILINE)
    numbers = {name: value for name, value in vars(settings).items() if name.isupper() and type(value) is int}
    assert len(rows) == len(dict(rows))
    assert {name: int(value) for name, value in rows} == numbers


def test_pipelined_requests_are_each_counted_on_their_own(fob_serve, tmp_path):
    """Forty small requests in one write, more than MAX_HEAD_BYTES together: all answered."""
    storage = ["--db", "sqlite:///%s" % (tmp_path / "db"), "--seed-key-file", str(tmp_path / "key")]
    server = fob_serve(*storage, FOB_API_KEY=API_KEY)
    one = "GET %s/users/nobody HTTP/1.1\r\nHost: x\r\n%s\r\nX-Filler: %s\r\n\r\n" % (V1, AUTHORISED, "f" * 500)
    assert len(one) * 40 > settings.MAX_HEAD_BYTES
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(one.encode() * 40)
        answers = b""
        while answers.count(b"HTTP/1.1 ") < 40:
            chunk = connection.recv(65536)
            assert chunk, answers.decode()
            answers += chunk
    assert answers.count(b"HTTP/1.1 404 ") == 40
