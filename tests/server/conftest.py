"""Fixtures for the validation service: a controllable clock, a bank with tokens and users, and
databases — a SQLite file per test and one throwaway PostgreSQL cluster per session."""

import base64
import logging
import os
import secrets
import socket
import subprocess
import sys
import time

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient

from fobauth.api import create_app
from fobauth.database import make_engine, upgrade
from fobauth.pskcimport import TokenSeed
from fobauth.service import AuthService, Policy
from secretlog import RecordingHasher, RecordingSeedBox, Secrets, leaked_secrets

START = 1_800_000_000  # a step boundary (divisible by 60)
PERIOD = 60


# Cheap argon2 parameters keep user creation fast in tests; the service defaults to argon2-cffi's own.
FAST_HASHER = RecordingHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Clock:
    """A settable clock for the service: ``now`` is Unix seconds."""

    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class Bank:
    """Tokens with known seeds and users, around one AuthService; codes come from pyotp."""

    PERIOD = PERIOD
    CONFIRMATION = "confirmation pass"

    def __init__(self, service, clock):
        self.service = service
        self.clock = clock
        self.seeds = {}

    def add_token(self, serial="12345678", expiry=None, drift=0, algorithm="sha1", digits=6):
        key = secrets.token_bytes(20)
        self.service.import_tokens([TokenSeed(serial, key, algorithm, digits, PERIOD, expiry, drift)])
        self.seeds[serial] = (key, algorithm, digits)
        return serial

    def code(self, serial, steps=0):
        """The code the token shows ``steps`` time steps from now."""
        key, algorithm, digits = self.seeds[serial]
        totp = pyotp.TOTP(base64.b32encode(key).decode(), digits=digits, digest=algorithm, interval=PERIOD)
        return totp.at(self.clock.now + steps * PERIOD)

    def user(self, user_id, customer="acme", role="user"):
        self.service.create_user(user_id, customer, role, "login-password", self.CONFIRMATION)
        return user_id

    def registered(self, user_id, serial="12345678", customer="acme", role="user"):
        """A user with ``serial`` registered, and the clock moved on one step so the next code is fresh."""
        if serial not in self.seeds:
            self.add_token(serial)
        self.user(user_id, customer, role)
        self.service.register(user_id, serial, self.code(serial))
        self.clock.advance(PERIOD)
        return user_id


SEED_KEY = bytes(range(32))


def new_service(engine, clock, policy, fast_path=True):
    upgrade(engine)
    return AuthService(
        engine, RecordingSeedBox(SEED_KEY), policy=policy, clock=clock, hasher=FAST_HASHER, fast_path=fast_path
    )


@pytest.fixture
def clock():
    return Clock()


class LogRecorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.texts = []

    def emit(self, record):
        self.texts.append(self.format(record))  # with the traceback, where there is one


@pytest.fixture(autouse=True)
def no_secrets_in_logs(request, clock):
    """After every test of the service (its error tests above all): nothing the test's logging or its
    `fob serve` processes wrote holds a seed, a code, a password or a password hash."""
    Secrets.passwords.clear()
    Secrets.seeds.clear()
    recorder = LogRecorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    server_logs = []
    request.node.server_logs = server_logs
    yield
    root.removeHandler(recorder)
    times = [time.time(), clock.now]
    for origin, text in [("logging", "\n".join(recorder.texts)), *server_logs]:
        leaked = leaked_secrets(text, times)
        assert not leaked, "%s of %s: %s" % (", ".join(sorted(leaked)), origin, text[-2000:])


@pytest.fixture
def sqlite_url(tmp_path):
    return "sqlite:///%s" % (tmp_path / "fobauth.db")


@pytest.fixture
def make_bank(sqlite_url, clock):
    """``make_bank(url=None, fast_path=True, **policy)``: a Bank on ``url`` (default: this test's SQLite file)."""
    engines = []

    def make(url=None, fast_path=True, **policy):
        engine = make_engine(url or sqlite_url)
        engines.append(engine)
        return Bank(new_service(engine, clock, Policy(**policy), fast_path), clock)

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def bank(make_bank):
    return make_bank()


# -- PostgreSQL: a throwaway cluster started by the tests ------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """Each concurrency test runs on a SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


# -- HTTP ----------------------------------------------------------------------------------------

API_KEY = "test-api-key-0123456789"


@pytest.fixture
def make_client(bank):
    """``make_client(**limits)``: an HTTP client of the bank's service that sends the API key."""
    clients = []

    def make(**limits):
        client = TestClient(create_app(bank.service, API_KEY, **limits))
        client.headers["Authorization"] = "Bearer " + API_KEY
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()


class RunningServer:
    """A `fob serve` process on a free port: ``base`` is its API's URL; ``stop()`` returns its stderr."""

    def __init__(self, options, environment):
        self.options = options
        self.log = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        argv = [sys.executable, "-m", "fobhost.cli", "serve", "--port", str(self.port), "--quiet", *options]
        self.base = "http://127.0.0.1:%d/api/v1" % self.port
        self.process = subprocess.Popen(argv, env=environment, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, self.process.stderr.read()
            try:
                httpx.get(self.base + "/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, "fob serve did not start within 30 s"
                time.sleep(0.05)  # polling a port that is not open yet

    def stop(self):
        if self.log is None:
            if self.process.poll() is None:
                self.process.terminate()
                self.process.wait(timeout=30)
            self.log = self.process.stderr.read()
        return self.log


@pytest.fixture
def fob_serve(request):
    """``fob_serve(*options, **environment)``: start `fob serve` with these options; stopped at the end,
    its stderr kept for no_secrets_in_logs.  The caller's FOB_* variables are not inherited, only those given."""
    servers = []

    def start(*options, **environment):
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("FOB_")}
        servers.append(RunningServer(options, {**inherited, **environment}))
        return servers[-1]

    yield start
    for server in servers:
        request.node.server_logs.append(("fob serve %s" % " ".join(server.options), server.stop()))
