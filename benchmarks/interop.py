"""The validation service from the bank's other systems: RADIUS (`fob radius`) side by side with HTTP
(`fob serve`) on one SQLite database, and what a hostile PSKC import costs.

RADIUS: 32 requests in flight from one client socket, each a fresh user's right code, so every counted
Access-Accept is a real, committed verification.  PSKC: the CPU seconds one document costs the importer
(at the PBKDF2 bound, and two refused ones), and HTTP verifications per second while documents at the
bound are uploaded back to back, against the same without them.
"""

import base64
import contextlib
import io
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pskc
from pyrad import packet

from benchmarks.server import API_KEY, SEED_KEY, free_port, over_http, percentiles, provisioned, report, totp
from fobauth import errors, pskcimport

RADIUS_USERS = 12000  # more than the front answers in RADIUS_SECONDS
RADIUS_SECONDS = 4
IN_FLIGHT = 32
SECRET = b"benchmark-radius-secret"


def radius_requests(seeds, first, now):
    """Access-Request bytes for users u<first>.. with their current codes, ids cycling 0..255."""
    built = []
    for offset, seed in enumerate(seeds[first:]):
        request = packet.AuthPacket(id=offset % 256, secret=SECRET, authenticator=packet.Packet.CreateAuthenticator())
        request[1] = [("u%d" % (first + offset)).encode()]
        request[2] = [request.PwCrypt(totp(seed).at(now))]
        request.add_message_authenticator()
        built.append(request.RequestPacket())
    return built


def drive(port, requests):
    """Send ``requests`` IN_FLIGHT at a time for RADIUS_SECONDS; (accepted, seconds, latencies, rejected)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    sent_at, latencies, rejected, index = {}, [], 0, 0
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    start = time.perf_counter()
    while True:
        elapsed = time.perf_counter() - start
        while elapsed < RADIUS_SECONDS and len(sent_at) < IN_FLIGHT and index < len(requests):
            sent_at[requests[index][1]] = time.perf_counter()
            sock.send(requests[index])
            index += 1
        if not sent_at:
            break
        if not selector.select(5):
            raise AssertionError("the RADIUS front stopped answering (%d outstanding)" % len(sent_at))
        reply = sock.recv(4096)
        latencies.append(time.perf_counter() - sent_at.pop(reply[1]))
        rejected += reply[0] != packet.AccessAccept
    elapsed = time.perf_counter() - start
    sock.close()
    if index >= len(requests):
        raise AssertionError("all %d RADIUS users were used: raise RADIUS_USERS" % len(requests))
    return len(latencies) - rejected, elapsed, latencies, rejected


def over_radius(label, url, directory, seeds, first):
    clients = directory / "clients"
    clients.write_text("127.0.0.1 %s\n" % SECRET.decode())
    os.chmod(clients, 0o600)
    port = free_port()
    environment = dict(os.environ, FOB_SEED_KEY=base64.b64encode(SEED_KEY).decode())
    argv = [sys.executable, "-m", "fobhost.cli", "radius", "--db", url, "--port", str(port)]
    argv += ["--clients", str(clients), "--seed-key-file", str(directory / "k")]
    server = subprocess.Popen(argv, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        requests = radius_requests(seeds, first, time.time())
        time.sleep(1.5)  # the front imports its libraries and binds
        if server.poll() is not None:
            raise RuntimeError("fob radius did not start: %s" % server.stderr.read().decode()[-500:])
        accepted, elapsed, latencies, rejected = drive(port, requests)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if rejected:
        raise AssertionError("%d RADIUS verifications were rejected" % rejected)
    return report(label, accepted, elapsed, *percentiles(latencies))


def hostile_documents():
    """(label, document, password): one at the PBKDF2 bound (wrong password: derived, then refused)
    and two whose parameters are refused before any work."""
    container = pskc.PSKC()
    container.add_key(serial="99999999", secret=bytes(20), algorithm=pskcimport.TOTP_URN)
    container.encryption.setup_pbkdf2("right", algorithm="aes256-cbc", iterations=1_300_000)
    out = io.BytesIO()
    container.write(out)
    bound = out.getvalue()
    return [
        ("PBKDF2 at the bound (SHA-1, 1 300 000, AES-256)", bound, "wrong"),
        ("IterationCount 10^7", bound.replace(b">1300000<", b">10000000<"), "wrong"),
        ("KeyLength 200000000", bound.replace(b"<KeyLength>32<", b"<KeyLength>200000000<"), "wrong"),
    ]


def pskc_costs():
    for label, document, password in hostile_documents():
        start = time.process_time()
        try:
            pskcimport.read(document, password)
            raise AssertionError("a hostile document was imported")
        except errors.BadPskc:
            pass
        print("%-60s %6.3f s CPU" % ("PSKC import refused: " + label, time.process_time() - start), flush=True)


def uploading(port, stop):
    """Upload the document at the bound to /tokens/import back to back until ``stop``; counts uploads."""
    import httpx

    document = hostile_documents()[0][1]
    headers = {"Authorization": "Bearer " + API_KEY, "X-PSKC-Password": "wrong"}
    count = 0
    with httpx.Client(base_url="http://127.0.0.1:%d" % port, timeout=60) as client:
        while not stop.is_set():
            assert client.post("/api/v1/tokens/import", content=document, headers=headers).status_code == 400
            count += 1
    return count


@contextlib.contextmanager
def hostile_uploads(port):
    """The document at the bound uploaded back to back while the block runs; the count printed after."""
    stop, uploads = threading.Event(), []

    def upload():
        try:
            uploads.append(uploading(port, stop))
        except Exception as error:  # seen after the run, not lost in the thread
            uploads.append(error)

    uploader = threading.Thread(target=upload, daemon=True)
    uploader.start()
    try:
        yield
    finally:
        stop.set()
        uploader.join()
    if isinstance(uploads[0], Exception):
        raise uploads[0]
    print("  hostile PSKC uploads finished meanwhile (one always in progress): %d" % uploads[0], flush=True)


def main():
    pskc_costs()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        url = "sqlite:///%s" % (directory / "radius.db")
        seeds = provisioned(url, RADIUS_USERS)
        print("RADIUS: fob radius, %d requests in flight from one socket; HTTP: fob serve under wrk" % IN_FLIGHT)
        over_radius("RADIUS, SQLite", url, directory, seeds, 0)
        if shutil.which("wrk") is None:
            print("HTTP runs skipped: wrk is not installed (Debian package wrk)")
            return
        over_http("HTTP, SQLite", "sqlite:///%s" % (directory / "http.db"), directory)
        hostile = "sqlite:///%s" % (directory / "h2.db")
        over_http("HTTP, SQLite, during hostile PSKC uploads", hostile, directory, alongside=hostile_uploads)
