"""Fixtures for the portal: a service on a SQLite file with a settable clock, and the app that
`fob serve` builds (the JSON API with the portal mounted at "/")."""

import base64
import secrets

import pyotp
import pytest
from fastapi.testclient import TestClient
from portal.harness import FAST_HASHER, Clock, build_app
from portal.pages import CONFIRMATION, LOGIN_PASSWORD

from fobauth import errors
from fobauth.database import make_engine, upgrade
from fobauth.pskcimport import TokenSeed
from fobauth.seedbox import SeedBox
from fobauth.service import AuthService


@pytest.fixture
def clock():
    return Clock(1_800_000_000)


@pytest.fixture
def database_url(tmp_path):
    """A SQLite file; test_postgresql.py overrides this with a database on a real PostgreSQL server."""
    return "sqlite:///%s" % (tmp_path / "fobauth.db")


@pytest.fixture
def service(database_url, clock):
    engine = make_engine(database_url)
    upgrade(engine)
    yield AuthService(engine, SeedBox(secrets.token_bytes(32)), clock=clock, hasher=FAST_HASHER)
    engine.dispose()


class Bank:
    """Users and pyotp-backed tokens on the service, for the screens' HTTP tests."""

    def __init__(self, service, clock):
        self.service = service
        self.clock = clock
        self.seeds = {}

    def token(self, serial):
        key = secrets.token_bytes(20)
        self.service.import_tokens([TokenSeed(serial, key, "sha1", 6, 60, None, 0)])
        self.seeds[serial] = pyotp.TOTP(base64.b32encode(key).decode(), interval=60)
        return serial

    def code(self, serial):
        return self.seeds[serial].at(self.clock.now)

    def user(self, user_id, customer="acme", role="user", serial=None):
        self.service.create_user(user_id, customer, role, LOGIN_PASSWORD, CONFIRMATION)
        if serial:
            self.service.register(user_id, serial, self.code(serial))
            self.clock.advance(60)  # the next code is a fresh one
        return user_id

    def suspend(self, user_id, serial):
        """Five wrong codes: the user's token use is suspended."""
        wrong = "%06d" % ((int(self.code(serial)) + 500_000) % 1_000_000)
        for _ in range(5):
            with pytest.raises((errors.InvalidCode, errors.Suspended)):
                self.service.verify(user_id, wrong)
        assert self.service.status(user_id).suspended


@pytest.fixture
def bank(service, clock):
    return Bank(service, clock)


@pytest.fixture
def browser_client(service, clock):
    """An HTTP client over https (the session cookie is Secure), following no redirects."""
    with TestClient(build_app(service, clock), base_url="https://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def other_browser_client(service, clock):
    """A second browser, with its own cookies."""
    with TestClient(build_app(service, clock), base_url="https://testserver", follow_redirects=False) as client:
        yield client
