"""privacyIDEA (the open validation server banks run) imports every fobkit export mode with its MAC
check on and validates the fob's code once: plain PSKC, password PSKC, PSK PSKC and OATH CSV.

privacyIDEA runs from its own virtualenv (.peers/privacyidea, made by scripts/setup-privacyidea) on
127.0.0.1 with SQLite; codes come from fobcore.otp, the function the fob's firmware runs.
"""

import os
import shutil
import socket
import subprocess
import time

import httpx
import pytest

from fobcore import otp
from fobhost.cli import main
from fobhost.inventory import Inventory
from peers import privacyidea

ADMIN_PASSWORD = "fobkit-test-admin"  # scripts/setup-privacyidea
EXPIRY = 2_000_000_000
# one SHA-1 fob per export mode (privacyIDEA checks a PSKC Suite of SHA-256/512 with SHA-1: docs/interop.md)
MODES = {
    "plain": "2026000001",
    "password": "2026000002",
    "psk": "2026000003",
    "oathcsv": "2026000004",
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A running privacyIDEA: (base URL, admin authorization header)."""
    root = privacyidea()
    instance = tmp_path_factory.mktemp("privacyidea")
    for name in ("enckey", "private.pem", "public.pem", "pi.sqlite"):
        shutil.copy(root / "template" / name, instance / name)
    config = instance / "pi.cfg"
    config.write_text((root / "template" / "pi.cfg.in").read_text().replace("@DIR@", str(instance)))
    port = free_port()
    environment = dict(os.environ, PRIVACYIDEA_CONFIGFILE=str(config))
    command = [str(root / "venv" / "bin" / "pi-manage"), "run", "-h", "127.0.0.1", "-p", str(port), "--no-reload"]
    log = open(instance / "run.log", "wb")
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=instance)
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (instance / "run.log").read_text()[-2000:]
            try:
                response = httpx.post(url + "/auth", data={"username": "admin", "password": ADMIN_PASSWORD})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "privacyIDEA did not start"
                time.sleep(0.3)
        assert response.status_code == 200, response.text
        yield url, {"Authorization": response.json()["result"]["value"]["token"]}
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    path = tmp_path_factory.mktemp("inventory") / "inventory.sqlite3"
    with Inventory(path) as store:
        for serial in MODES.values():
            store.record(serial, os.urandom(20), "sha1", 6, 30, EXPIRY, "fake", "0.1.0")
    return path


def export(inventory, mode, tmp_path):
    """`fob export` of the mode's fob: (file, privacyIDEA's load parameters)."""
    out = tmp_path / ("%s.export" % mode)
    argv = ["export", "--inventory", str(inventory), MODES[mode], "-o", str(out)]
    parameters = {"type": "pskc", "pskcValidateMAC": "check_fail_hard"}
    if mode == "plain":
        argv.append("--plaintext")
    elif mode == "password":
        (tmp_path / "pw").write_text("correct horse battery staple\n")
        argv += ["--password-file", str(tmp_path / "pw")]
        parameters["password"] = "correct horse battery staple"
    elif mode == "psk":
        key = os.urandom(16)
        (tmp_path / "desk.key").write_text(key.hex() + "\n")
        argv += ["--psk-file", str(tmp_path / "desk.key")]
        parameters["psk"] = key.hex()
    else:
        argv += ["--format", "oathcsv", "--plaintext"]
        parameters = {"type": "oathcsv"}
    assert main(argv) == 0
    return out, parameters


def check(url, serial, code):
    response = httpx.post(url + "/validate/check", data={"serial": serial, "pass": code})
    assert response.status_code == 200, response.text
    return response.json()["result"]["value"]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_privacyidea_imports_the_export_and_accepts_the_code_once(server, inventory, tmp_path, mode):
    url, admin = server
    path, parameters = export(inventory, mode, tmp_path)
    with path.open("rb") as upload:
        response = httpx.post(
            url + "/token/load/" + path.name, headers=admin, data=parameters, files={"file": upload}, timeout=60
        )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["value"] == {"n_imported": 1, "n_not_imported": 0}
    serial = MODES[mode]
    info = httpx.get(url + "/token/", headers=admin, params={"serial": serial}).json()["result"]["value"]
    token = info["tokens"][0]
    assert (token["tokentype"], token["otplen"], token["info"]["timeStep"]) == ("totp", 6, "30")
    with Inventory(inventory) as store:
        seed = store.seed(serial)
    code = otp.totp(seed, int(time.time()), 30, 6, "sha1")
    wrong = "%06d" % ((int(code) + 1) % 10**6)
    assert check(url, serial, wrong) is False
    assert check(url, serial, code) is True
    assert check(url, serial, code) is False  # the replay


def test_the_documented_workarounds_for_sha256_fobs_and_expiry(server, tmp_path):
    """docs/interop.md: a SHA-256 fob goes in as OATH CSV (its PSKC Suite would be checked as SHA-1), and
    the expiry privacyIDEA drops is set afterwards with /token/set."""
    url, admin = server
    serial, seed = "2026000005", os.urandom(32)
    inventory = tmp_path / "inventory.sqlite3"
    with Inventory(inventory) as store:
        store.record(serial, seed, "sha256", 8, 30, EXPIRY, "fake", "0.1.0")
    out = tmp_path / "sha256.csv"
    assert main(["export", "--inventory", str(inventory), "--format", "oathcsv", "--plaintext", "-o", str(out)]) == 0
    with out.open("rb") as upload:
        response = httpx.post(
            url + "/token/load/sha256.csv", headers=admin, data={"type": "oathcsv"}, files={"file": upload}
        )
    assert response.json()["result"]["value"]["n_imported"] == 1
    set_expiry = {"serial": serial, "validity_period_end": "2033-05-18T03:33+0000"}  # EXPIRY
    assert httpx.post(url + "/token/set", headers=admin, data=set_expiry).json()["result"]["value"] == 1
    info = httpx.get(url + "/token/", headers=admin, params={"serial": serial}).json()["result"]["value"]["tokens"][0]
    assert (info["info"]["hashlib"], info["info"]["validity_period_end"]) == ("sha256", "2033-05-18T03:33+0000")
    code = otp.totp(seed, int(time.time()), 30, 8, "sha256")
    assert check(url, serial, code) is True
    assert check(url, serial, code) is False
