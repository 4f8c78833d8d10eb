"""Bank portal speed: pages per second for the login screen, and the latency of a whole login with a
code (password check with argon2-cffi's default parameters, the code verified and committed),
through the app `fob serve` builds, in process (no network), on SQLite."""

import base64
import re
import tempfile
import time
from pathlib import Path

import pyotp
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from fobauth.database import make_engine, upgrade
from fobauth.pskcimport import TokenSeed
from fobauth.ratelimit import Rate
from fobauth.runtime import build_app
from fobauth.seedbox import SeedBox
from fobauth.service import AuthService

PAGES = 500
LOGINS = 40
API_KEY = "benchmark-api-key-0123456789"
START = 1_800_000_000


class SteppingClock:
    """The service's clock, moved one time step before each login so that every code is fresh."""

    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def csrf(page):
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def main():
    with tempfile.TemporaryDirectory() as directory:
        clock = SteppingClock()
        engine = make_engine("sqlite:///%s" % (Path(directory) / "fobauth.db"))
        upgrade(engine)
        service = AuthService(engine, SeedBox(bytes(range(32))), clock=clock)
        seed = bytes(range(20))
        service.import_tokens([TokenSeed("20260001", seed, "sha1", 6, 60, None, 0)])
        totp = pyotp.TOTP(base64.b32encode(seed).decode(), interval=60)
        users = ["user%02d" % n for n in range(LOGINS)]  # one login each: the portal limits password tries per user
        for user_id in users:
            service.create_user(user_id, "acme", "user", "login password", "confirmation password")
            clock.now += 60
            service.register(user_id, "20260001", totp.at(clock.now))  # they share one token
        app = build_app(service, API_KEY, Rate(10**6, 1), Rate(10**6, 1))
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
            started = time.perf_counter()
            for _ in range(PAGES):
                client.get("/login")
            elapsed = time.perf_counter() - started
            print(
                "%-36s %8.0f pages/s   (%d in %.2f s)" % ("login screen (GET /login)", PAGES / elapsed, PAGES, elapsed)
            )

            latencies = []
            for user_id in users:
                clock.now += 60
                client.cookies.clear()
                token = csrf(client.get("/login"))
                began = time.perf_counter()
                answer = client.post("/login", data={"csrf": token, "user_id": user_id, "password": "login password"})
                assert answer.headers["location"] == "/login/code", answer.text
                token = csrf(client.get("/login/code"))
                answer = client.post("/login/code", data={"csrf": token, "code": totp.at(clock.now)})
                assert answer.headers["location"] == "/", answer.text
                latencies.append(time.perf_counter() - began)
            latencies.sort()
            print(
                "%-36s p50 %6.1f ms   p99 %6.1f ms   (%d logins; argon2 default parameters)"
                % (
                    "login: password + code",
                    percentile(latencies, 0.5) * 1e3,
                    percentile(latencies, 0.99) * 1e3,
                    LOGINS,
                )
            )
        hasher = PasswordHasher()
        stored = hasher.hash("login password")
        began = time.perf_counter()
        for _ in range(10):
            hasher.verify(stored, "login password")
        print(
            "%-36s %6.1f ms each (the floor of a login)" % ("argon2 verify alone", (time.perf_counter() - began) * 100)
        )
        engine.dispose()


if __name__ == "__main__":
    main()
