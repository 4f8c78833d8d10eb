"""Validation service speed: verifications per second and p50/p99 latency through the library and
through HTTP (`fob serve`, 32 concurrent keep-alive clients), on SQLite and PostgreSQL, against bare
pyotp.TOTP.verify in the same run as the upper bound.

Every counted verification is a real, accepted, replay-safe and committed one: the library runs
advance an injected clock one step per call; the HTTP runs use one fresh user and token per request.
"""

import asyncio
import base64
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyotp
from argon2 import PasswordHasher
from sqlalchemy import insert, select

from fobauth import errors, pgcluster
from fobauth.database import make_engine, upgrade
from fobauth.pskcimport import TokenSeed
from fobauth.schema import tokens, users
from fobauth.seedbox import SeedBox
from fobauth.service import AuthService

LIBRARY_CALLS = 2000
HTTP_REQUESTS = 4000
HTTP_CLIENTS = 32
HTTP_WORKERS = {"sqlite": 1, "postgresql": 2}  # SQLite has one writer: more processes only wait on its lock
PYOTP_SECONDS = 0.5
SEED_KEY = bytes(range(32))
API_KEY = "benchmark-api-key-0123456789"


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def report(label, count, elapsed, latencies):
    latencies.sort()
    print(
        "%-36s %8.0f verifications/s   p50 %6.2f ms   p99 %6.2f ms   (%d in %.2f s)"
        % (label, count / elapsed, percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3, count, elapsed),
        flush=True,
    )
    return count / elapsed


def pyotp_rate(label, verify):
    count, latencies = 0, []
    start = time.perf_counter()
    while time.perf_counter() - start < PYOTP_SECONDS:
        t = time.perf_counter()
        assert verify()
        latencies.append(time.perf_counter() - t)
        count += 1
    return report(label, count, time.perf_counter() - start, latencies)


def bare_pyotp():
    """The upper bound: pyotp.TOTP.verify on a ready object; then, for scale, what a store-less service
    pays per request with pyotp alone (the object built from the base32 secret, window ±1)."""
    secret = pyotp.random_base32()
    bare = pyotp.TOTP(secret, interval=60)
    now = int(time.time())
    code = bare.at(now)
    upper = pyotp_rate("bare pyotp.TOTP.verify (upper bound)", lambda: bare.verify(code, for_time=now))
    pyotp_rate(
        "pyotp per request (build, window 1)",
        lambda: pyotp.TOTP(secret, interval=60).verify(code, for_time=now, valid_window=1),
    )
    return upper


def serial(i):
    return "%08d" % (10_000_000 + i)


def totp(seed):
    return pyotp.TOTP(base64.b32encode(seed).decode(), interval=60)


def provision(engine, count, clock):
    """``count`` tokens bound to users u0.. directly in the database (the rules are not being measured
    here); returns the seeds.  One cheap password hash is shared: passwords play no part in verify."""
    service = AuthService(engine, SeedBox(SEED_KEY), clock=clock)
    seeds = [os.urandom(20) for _ in range(count)]
    service.import_tokens(
        [TokenSeed("%08d" % (10_000_000 + i), seed, "sha1", 6, 60, None, 0) for i, seed in enumerate(seeds)]
    )
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("unused")
    with engine.begin() as conn:
        ids = dict(conn.execute(select(tokens.c.serial, tokens.c.id)).all())
        conn.execute(
            insert(users),
            [
                {
                    "user_id": "u%d" % i,
                    "customer_id": "bench",
                    "role": "user",
                    "password_hash": password_hash,
                    "confirmation_hash": password_hash,
                    "token_id": ids[serial(i)],
                    "failures": 0,
                    "suspended": False,
                    "created_at": 0,
                }
                for i in range(count)
            ],
        )
    return service, seeds


def library(label, url):
    engine = make_engine(url)
    upgrade(engine)
    now = [int(time.time())]
    service, seeds = provision(engine, 1, lambda: now[0])
    token = totp(seeds[0])
    latencies = []
    start = time.perf_counter()
    for _ in range(LIBRARY_CALLS):
        now[0] += 60
        code = token.at(now[0])
        t = time.perf_counter()
        service.verify("u0", code)
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    try:  # the last code once more: it must be refused, or nothing above was replay-safe
        service.verify("u0", code)
        raise AssertionError("a replayed code was accepted")
    except errors.Replayed:
        pass
    engine.dispose()
    return report(label, LIBRARY_CALLS, elapsed, latencies)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(url, directory):
    port = free_port()
    workers = HTTP_WORKERS[url.split(":")[0].split("+")[0]]
    environment = dict(os.environ, FOB_API_KEY=API_KEY, FOB_SEED_KEY=base64.b64encode(SEED_KEY).decode())
    argv = [sys.executable, "-m", "fobhost.cli", "serve", "--db", url, "--port", str(port), "--quiet"]
    argv += ["--workers", str(workers), "--source-rate", "1000000/1", "--seed-key-file", str(directory / "k")]
    server = subprocess.Popen(argv, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("fob serve did not start") from None
                time.sleep(0.05)  # polling for the port to open
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


async def keep_alive_client(port, requests, latencies, outcomes):
    """One HTTP/1.1 keep-alive connection sending its share of requests one after another."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for path, body in requests:
        payload = json.dumps(body).encode()
        head = (
            "POST %s HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (path, API_KEY, len(payload))
        )
        t = time.perf_counter()
        writer.write(head.encode() + payload)
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - t)
        outcomes[status] = outcomes.get(status, 0) + 1
    writer.close()


async def load(port, requests):
    latencies, outcomes = [], {}
    shares = [requests[i::HTTP_CLIENTS] for i in range(HTTP_CLIENTS)]
    start = time.perf_counter()
    await asyncio.gather(*(keep_alive_client(port, share, latencies, outcomes) for share in shares))
    return time.perf_counter() - start, latencies, outcomes


def http(label, url, directory):
    engine = make_engine(url)
    upgrade(engine)
    _, seeds = provision(engine, HTTP_REQUESTS, time.time)
    engine.dispose()
    with serving(url, directory) as port:
        now = time.time()
        requests = [("/api/v1/users/u%d/verify" % i, {"code": totp(seed).at(now)}) for i, seed in enumerate(seeds)]
        asyncio.run(load(port, requests[:HTTP_CLIENTS]))  # warm-up: connections, pools, first imports
        elapsed, latencies, outcomes = asyncio.run(load(port, requests[HTTP_CLIENTS:]))
    if set(outcomes) != {200}:
        raise AssertionError("HTTP outcomes other than 200: %s" % outcomes)
    return report(label, len(latencies), elapsed, latencies)


def database(server, name):
    """A new database ``name`` on the PostgreSQL ``server``; its URL."""
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE %s" % name)
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


def main():
    print(
        "library: one user, one thread, clock advanced a step per call; HTTP: fob serve with %d keep-alive "
        "clients, workers %s" % (HTTP_CLIENTS, HTTP_WORKERS)
    )
    upper = bare_pyotp()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        sqlite_library = library("library, SQLite", "sqlite:///%s" % (directory / "lib.db"))
        print("  library on SQLite is %.0f%% of bare pyotp (target: at least 20%%)" % (100 * sqlite_library / upper))
        http("HTTP, SQLite", "sqlite:///%s" % (directory / "http.db"), directory)
        try:
            with pgcluster.throwaway_cluster() as server:
                library("library, PostgreSQL", database(server, "library"))
                http("HTTP, PostgreSQL (target 1500/s, p99 25 ms)", database(server, "http"), directory)
        except pgcluster.PostgresUnavailable as error:
            print("PostgreSQL runs skipped: %s" % error)


if __name__ == "__main__":
    main()
