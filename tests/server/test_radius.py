"""The RADIUS front (fobauth.radius) against FreeRADIUS's own radclient, and hostile packets built with
pyrad or by hand: a clear Reject or no answer at all, and nothing changed."""

import base64
import os
import socket
import struct
import subprocess
import sys
import threading
import time

import pyotp
import pytest
from pyrad import packet

from fobauth import radius, runtime
from fobauth.pskcimport import TokenSeed
from fobauth.seedbox import SeedBox
from fobauth.service import AuthService
from peers import require

SHARED = b"a-shared-secret-of-the-test"


@pytest.fixture
def front(bank, tmp_path):
    """A RadiusFront for ``bank`` on a free UDP port of 127.0.0.1; yields its (host, port)."""
    clients = tmp_path / "clients"
    clients.write_text("# address secret\n127.0.0.1 %s\n10.9.0.0/16 %s\n" % (SHARED.decode(), "x" * 16))
    os.chmod(clients, 0o600)
    server = radius.RadiusFront(bank.service, radius.read_clients(clients), workers=2)
    sock = radius.bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve, args=(sock,), daemon=True)
    thread.start()
    yield sock.getsockname()
    server.stop()
    thread.join()
    sock.close()


def radclient(address, attributes, secret=SHARED, retries=1):
    """radclient's verdict: "Access-Accept", "Access-Reject" or "no reply"."""
    tool = require("radclient", "freeradius-utils")
    done = subprocess.run(
        [tool, "-t", "1", "-r", str(retries), "%s:%d" % address, "auth", secret.decode()],
        input=attributes,
        capture_output=True,
        text=True,
        timeout=30,
    )
    for verdict in ("Access-Accept", "Access-Reject"):
        if "Received " + verdict in done.stdout:
            return verdict
    assert "Sent Access-Request" in done.stdout and done.returncode == 1, done.stdout + done.stderr
    return "no reply"


def attributes(user, code, authenticator=True):
    text = 'User-Name = "%s", User-Password = "%s"' % (user, code)
    return text + (", Message-Authenticator = 0x00" if authenticator else "")


def test_radclient_accept_replay_wrong_code_unknown_user_and_bad_authenticator(bank, front):
    bank.registered("alice")
    code = bank.code("12345678")
    wrong = "%06d" % ((int(code) + 1) % 10**6)
    assert radclient(front, attributes("alice", wrong)) == "Access-Reject"
    assert radclient(front, attributes("nobody", code)) == "Access-Reject"
    assert radclient(front, attributes("alice", code), secret=b"not-the-shared-secret") == "no reply"
    assert radclient(front, attributes("alice", code, authenticator=False)) == "no reply"
    assert bank.service.status("alice").failures == 1  # only the wrong code counted
    assert radclient(front, attributes("alice", code)) == "Access-Accept"
    assert radclient(front, attributes("alice", code)) == "Access-Reject"  # replayed


def test_radclient_retransmission_after_a_lost_accept_gets_the_accept(bank, front):
    """A relay drops the server's first answer, as a lossy network would; radclient sends the same
    request again and the front answers from its cache: an Accept, not a Reject as a replay."""
    bank.registered("alice")
    relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    relay.bind(("127.0.0.1", 0))
    relay.settimeout(5)
    seen = []

    def forward():
        upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        upstream.settimeout(5)
        with upstream:
            for attempt in range(2):
                request, client = relay.recvfrom(4096)
                seen.append(request)
                upstream.sendto(request, front)
                reply, _ = upstream.recvfrom(4096)
                if attempt:
                    relay.sendto(reply, client)

    thread = threading.Thread(target=forward, daemon=True)
    thread.start()
    with relay:
        verdict = radclient(relay.getsockname(), attributes("alice", bank.code("12345678")), retries=2)
        thread.join()
    assert len(seen) == 2 and seen[0] == seen[1]  # radclient really retransmitted the same packet
    assert verdict == "Access-Accept"


def request(user="alice", code="123456", secret=SHARED, authenticator=True, users=()):
    """An Access-Request built with pyrad (no dictionary: raw attributes by number)."""
    built = packet.AuthPacket(secret=secret, authenticator=packet.Packet.CreateAuthenticator())
    if user is not None:
        built[1] = [user.encode("utf-8", "surrogateescape"), *users]
    if code is not None:
        built[2] = [built.PwCrypt(code)]
    if authenticator:
        built.add_message_authenticator()
    return built.RequestPacket()


def exchange(address, data, source="127.0.0.1"):
    """The front's answer to ``data`` (its code), or None when it stays silent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(0.5)
        sock.sendto(data, address)
        try:
            reply = sock.recv(65536)
        except TimeoutError:
            return None
    return reply[0]


def with_length(data, length):
    return data[:2] + struct.pack("!H", length) + data[4:]


@pytest.mark.parametrize(
    "make, answer",
    [
        pytest.param(lambda: request(authenticator=False), None, id="no-message-authenticator"),
        pytest.param(lambda: request(secret=b"wrong secret, wrong MA"), None, id="wrong-authenticator"),
        pytest.param(lambda: request()[:19], None, id="shorter-than-a-header"),
        pytest.param(lambda: with_length(request(), 4000), None, id="length-beyond-the-data"),
        pytest.param(lambda: with_length(request(), 12), None, id="length-under-20"),
        pytest.param(lambda: request()[:-3], None, id="truncated-attribute"),
        pytest.param(lambda: request() + bytes(4200), None, id="oversized"),
        pytest.param(lambda: bytes([4]) + request()[1:], None, id="accounting-request"),
        pytest.param(lambda: b"", None, id="empty"),
        pytest.param(lambda: request(code=None), packet.AccessReject, id="no-user-password"),
        pytest.param(lambda: request(user=None), packet.AccessReject, id="no-user-name"),
        pytest.param(lambda: request(users=[b"bob"]), packet.AccessReject, id="two-user-names"),
        pytest.param(lambda: request(user="al\udcffice"), packet.AccessReject, id="user-name-not-utf-8"),
    ],
)
def test_malformed_packets_get_no_answer_or_a_reject_and_change_nothing(bank, front, make, answer):
    bank.registered("alice")
    assert exchange(front, make()) == answer
    assert bank.service.status("alice").failures == 0
    assert exchange(front, request(code=bank.code("12345678"))) == packet.AccessAccept


def test_addresses_no_client_entry_allows_get_no_answer(bank, front):
    bank.registered("alice")
    assert exchange(front, request(code=bank.code("12345678")), source="127.0.0.2") is None
    assert exchange(front, request(code=bank.code("12345678"))) == packet.AccessAccept


def test_a_reject_never_says_why(bank, front):
    bank.registered("alice")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(request(code="000000"), front)
        reply = packet.AuthPacket(secret=SHARED, packet=sock.recv(4096))
    assert reply.code == packet.AccessReject and 18 not in reply  # no Reply-Message
    assert reply.message_authenticator  # and the reply is signed (RFC 3579)


@pytest.mark.parametrize(
    "text, mode, message",
    [
        ("127.0.0.1 %s\n" % ("s" * 16), 0o644, "readable by others: chmod 600"),
        ("127.0.0.1\n", 0o600, "line 1: expected ADDRESS[/PREFIX] SECRET"),
        ("localhost %s\n" % ("s" * 16), 0o600, "line 1: 'localhost' is not an address"),
        ("10.0.0.1/8 %s\n" % ("s" * 16), 0o600, "line 1: '10.0.0.1/8' is not an address"),
        ("127.0.0.1 short\n", 0o600, "at least 16 characters"),
        ("# none\n", 0o600, "names no clients"),
    ],
)
def test_bad_clients_files_are_refused_without_showing_the_secret(tmp_path, text, mode, message):
    path = tmp_path / "clients"
    path.write_text(text)
    os.chmod(path, mode)
    with pytest.raises(radius.ClientsError) as caught:
        radius.read_clients(path)
    assert message in str(caught.value) and "s" * 16 not in str(caught.value)


def test_fob_radius_refuses_a_readable_clients_file_in_one_line(tmp_path, capsys):
    from fobhost.cli import main

    (tmp_path / "clients").write_text("127.0.0.1 %s\n" % ("s" * 16))
    os.chmod(tmp_path / "clients", 0o644)
    storage = ["--db", "sqlite:///%s" % (tmp_path / "auth.db"), "--seed-key-file", str(tmp_path / "seed.key")]
    assert main(["radius", "--clients", str(tmp_path / "clients"), *storage]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "chmod 600" in err and "s" * 16 not in err


def test_wrong_codes_over_radius_lock_the_user_out_as_over_http(bank, front):
    bank.registered("alice")
    code = bank.code("12345678")
    wrong = "%06d" % ((int(code) + 1) % 10**6)
    for _ in range(5):  # Policy.max_failures
        assert exchange(front, request(code=wrong)) == packet.AccessReject
    assert bank.service.status("alice").suspended
    assert exchange(front, request(code=code)) == packet.AccessReject


def test_fob_radius_serves_the_database_fob_serve_uses(tmp_path):
    """`fob radius` as an operator starts it, on a database prepared through the service (real clock)."""
    database, key_file = "sqlite:///%s" % (tmp_path / "auth.db"), tmp_path / "seed.key"
    engine = runtime.open_service(database, key_file).engine
    # Registered a period ago with the code shown then, typed at once: the code now is fresh, and the
    # service takes it, typed as fast, whatever the phase (docs/server.md, "How drift is learnt").
    then = time.time() - 60
    service = AuthService(engine, SeedBox(runtime.seed_key(key_file)), clock=lambda: then)
    seed = os.urandom(20)
    service.import_tokens([TokenSeed("12345678", seed, "sha1", 6, 60, None, 0)])
    service.create_user("alice", "acme", "user", "login-password", "confirmation pass")
    totp = pyotp.TOTP(base64.b32encode(seed).decode(), interval=60)
    service.register("alice", "12345678", totp.at(then))
    engine.dispose()
    clients = tmp_path / "clients"
    clients.write_text("127.0.0.1 %s\n" % SHARED.decode())
    os.chmod(clients, 0o600)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "fobhost.cli", "radius", "--db", database, "--seed-key-file", str(key_file)]
    server = subprocess.Popen([*argv, "--clients", str(clients), "--port", str(port)], stderr=subprocess.PIPE)
    try:
        assert b"fob radius: udp 127.0.0.1:%d" % port in server.stderr.readline()  # printed once bound
        verdict = radclient(("127.0.0.1", port), attributes("alice", totp.now()))
    finally:
        server.terminate()
        server.wait(10)
    assert verdict == "Access-Accept"
