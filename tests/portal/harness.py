"""The app under test: the service's settable clock and what `fob serve` serves (the JSON API with
the portal mounted at "/")."""

from argon2 import PasswordHasher

from fobauth import portal
from fobauth.api import create_app

API_KEY = "portal-test-api-key-0123456789"
# Cheap argon2 parameters keep user creation fast; the service defaults to argon2-cffi's own.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Clock:
    """The service's clock, settable by tests: ``now`` is Unix seconds."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def build_app(service, clock):
    """What `fob serve` serves: the JSON API, and the portal at "/"."""
    return portal.mount(create_app(service, API_KEY), service, API_KEY, clock)
