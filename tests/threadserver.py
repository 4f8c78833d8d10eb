"""uvicorn serving an ASGI app on a free loopback port, in a thread of the test process."""

import socket
import threading
import time

import uvicorn


class ThreadServer:
    """``app`` served with uvicorn ``options`` (a uvicorn.Config's keyword arguments); ``port``, ``url``."""

    def __init__(self, app, **options):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.server = uvicorn.Server(uvicorn.Config(app, **{"log_level": "warning", "access_log": False, **options}))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [listener]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)
