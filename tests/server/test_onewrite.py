"""A response's head and body reach the socket in one write (fobauth.onewrite), through the protocol
`fob serve` runs (fobauth.limits.LimitedHttpTools): with a transport that records what is written, and
on a real uvicorn server on uvloop, as `fob serve` runs, where nothing on the connection may overtake
or lose an answer."""

import asyncio
import socket
import time

import pytest
from starlette.responses import JSONResponse, StreamingResponse
from threadserver import ThreadServer
from uvicorn.config import Config
from uvicorn.server import ServerState

from fobauth.limits import LimitedHttpTools, uvicorn_options

REQUEST = b"GET /x HTTP/1.1\r\nHost: fob\r\n\r\n"


class RecordingTransport(asyncio.Transport):
    def __init__(self):
        super().__init__()
        self.writes = []
        self.closed = False

    def write(self, data):
        self.writes.append(bytes(data))

    def get_extra_info(self, name, default=None):
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self):
        return self.closed

    def close(self):
        self.closed = True

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


async def served(app, data, until):
    """The writes of a LimitedHttpTools connection to ``app`` that received ``data``, once ``until(writes)``."""
    config = Config(app=app, http=LimitedHttpTools, lifespan="off", log_config=None)
    config.load()
    protocol = LimitedHttpTools(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(data)
    for _ in range(1000):
        if until(transport.writes):
            break
        await asyncio.sleep(0.001)  # the app's task and the protocol run on this loop
    protocol.connection_lost(None)
    return transport.writes


def answers(writes):
    return b"".join(writes).count(b"HTTP/1.1 200")


def test_an_answer_goes_out_in_one_write():
    async def app(scope, receive, send):
        await JSONResponse({"verified": True})(scope, receive, send)

    writes = asyncio.run(served(app, REQUEST, lambda writes: answers(writes) == 1))
    assert len(writes) == 1
    head, _, body = writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b'{"verified":true}'


def test_pipelined_answers_go_out_in_order_one_write_each():
    async def app(scope, receive, send):
        await JSONResponse({"path": scope["path"]})(scope, receive, send)

    data = REQUEST + REQUEST.replace(b"/x", b"/y")
    writes = asyncio.run(served(app, data, lambda writes: answers(writes) == 2))
    assert len(writes) == 2
    assert writes[0].endswith(b'{"path":"/x"}') and writes[1].endswith(b'{"path":"/y"}')


def test_a_streamed_answer_is_sent_as_it_comes():
    async def main():
        release = asyncio.Event()

        async def app(scope, receive, send):
            async def parts():
                yield b"first"
                await release.wait()
                yield b"second"

            await StreamingResponse(parts())(scope, receive, send)

        asyncio.get_running_loop().call_later(0.2, release.set)
        return await served(app, REQUEST, lambda writes: b"second" in b"".join(writes))

    writes = asyncio.run(main())
    assert writes[0].startswith(b"HTTP/1.1 200") and b"first" in writes[0]
    assert b"second" not in writes[0] and b"second" in b"".join(writes)  # the head and first part did not wait


async def slow_or_fast(scope, receive, send):
    if scope["type"] == "http":
        if scope["path"] == "/slow":
            await asyncio.sleep(0.3)
        await JSONResponse({"path": scope["path"]})(scope, receive, send)


@pytest.fixture(scope="module")
def server():
    """A uvicorn server with `fob serve`'s protocol options on uvloop; its port."""
    running = ThreadServer(slow_or_fast, loop="uvloop", log_config=None, **uvicorn_options())
    yield running.port
    running.stop()


def exchange(port, *parts, pause=0.1, half_close=False):
    """What the server sends back on one connection for ``parts`` sent ``pause`` seconds apart."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        for number, part in enumerate(parts):
            if number:
                time.sleep(pause)  # the later part arrives while the server works on the first
            client.sendall(part)
        if half_close:
            client.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
        return received


def get(path):
    return b"GET %s HTTP/1.1\r\nHost: fob\r\n\r\n" % path


@pytest.mark.parametrize(
    "bad, status",
    [(b"\x01BAD request\r\n\r\n", b"400"), (b"GET /big HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n", b"431")],
)
def test_an_answer_is_sent_before_the_error_answer_to_a_bad_request_after_it(server, bad, status):
    received = exchange(server, get(b"/slow") + get(b"/next"), bad)
    slow = received.find(b'{"path":"/slow"}')
    assert slow != -1 and received.find(b"HTTP/1.1 " + status) > slow


def test_a_client_that_stopped_sending_gets_its_answers(server):
    assert b'{"path":"/slow"}' in exchange(server, get(b"/slow") + get(b"/next"), half_close=True)
    for _ in range(10):
        assert b'{"path":"/one"}' in exchange(server, get(b"/one"), half_close=True)
