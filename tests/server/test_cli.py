"""`fob admin ...` and `fob serve` as an operator runs them: key files, one-line errors, a real server."""

import io
import os
import stat
import sys

import httpx
import pskc
import pytest

from fobhost.cli import main


def pskc_file(path, serials, password=None, psk=None):
    container = pskc.PSKC()
    for serial in serials:
        container.add_key(
            serial=serial,
            secret=os.urandom(20),
            algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp",
            time_interval=60,
            response_length=6,
            response_encoding="DECIMAL",
        )
    if password:
        container.encryption.setup_pbkdf2(password)
    if psk:
        container.encryption.setup_preshared_key(key=psk, algorithm="aes%d-cbc" % (len(psk) * 8))
    container.write(str(path))
    return str(path)


@pytest.fixture
def storage(tmp_path):
    """The --db and --seed-key-file options of a fresh installation in tmp_path."""
    return ["--db", "sqlite:///%s" % (tmp_path / "auth.db"), "--seed-key-file", str(tmp_path / "seed.key")]


def admin(storage, *argv, stdin=""):
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main(["admin", *argv, *storage])
    finally:
        sys.stdin = old_stdin


def _one_line_error(command, err):
    assert err.startswith("fob %s: error: " % command) and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_import_creates_the_seed_key_file_private(tmp_path, storage, capsys):
    path = pskc_file(tmp_path / "seeds.pskcxml", ["11112222", "33334444"])
    assert admin(storage, "import-pskc", path) == 0
    assert capsys.readouterr().out == "imported 2 tokens: 11112222 33334444\n"
    assert stat.S_IMODE(os.stat(tmp_path / "seed.key").st_mode) == 0o600


def test_import_of_a_password_protected_file(tmp_path, storage, capsys):
    path = pskc_file(tmp_path / "seeds.pskcxml", ["11112222"], password="file password")
    (tmp_path / "pw").write_text("file password\n")
    (tmp_path / "bad").write_text("guess\n")
    assert admin(storage, "import-pskc", path) == 2
    assert admin(storage, "import-pskc", path, "--password-file", str(tmp_path / "bad")) == 2
    assert admin(storage, "import-pskc", path, "--password-file", str(tmp_path / "pw")) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("fob admin: error: the PSKC document is password-protected")
    assert err[1].startswith("fob admin: error: the PSKC document does not open")


@pytest.mark.parametrize("bits", [128, 256])
def test_import_of_a_psk_protected_file(tmp_path, storage, capsys, bits):
    key = os.urandom(bits // 8)
    path = pskc_file(tmp_path / "seeds.pskcxml", ["11112222"], psk=key)
    (tmp_path / "vendor.key").write_text(key.hex() + "\n")
    (tmp_path / "other.key").write_text(os.urandom(bits // 8).hex() + "\n")
    (tmp_path / "short.key").write_text("00" * 5)
    (tmp_path / "pw").write_text(key.hex() + "\n")
    assert admin(storage, "import-pskc", path, "--password-file", str(tmp_path / "pw")) == 2
    assert admin(storage, "import-pskc", path, "--psk-file", str(tmp_path / "other.key")) == 2
    assert admin(storage, "import-pskc", path, "--psk-file", str(tmp_path / "short.key")) == 2
    assert admin(storage, "import-pskc", path, "--psk-file", str(tmp_path / "vendor.key")) == 0
    captured = capsys.readouterr()
    assert captured.out == "imported 1 token: 11112222\n"
    err = captured.err.splitlines()
    assert err[0] == "fob admin: error: the PSKC document is protected by a pre-shared key: give the key"
    assert err[1].startswith("fob admin: error: the PSKC document does not open")
    assert "must be 16, 24 or 32 bytes" in err[2]
    assert key.hex() not in captured.err


@pytest.mark.parametrize("content", [b"", b"<not pskc", b"\x00\xff" * 100])
def test_import_of_a_bad_file_is_one_line_exit_2(tmp_path, storage, capsys, content):
    (tmp_path / "bad.xml").write_bytes(content)
    assert admin(storage, "import-pskc", str(tmp_path / "bad.xml")) == 2
    _one_line_error("admin", capsys.readouterr().err)


def test_create_user_reads_passwords_and_lists(tmp_path, storage, capsys):
    assert admin(storage, "create-user", "alice", "--customer", "acme", stdin="login\nconfirm\n") == 0
    assert capsys.readouterr().out == "created alice (user of acme)\n"
    assert admin(storage, "create-user", "alice", "--customer", "acme", stdin="login\nconfirm\n") == 2
    assert "exists" in capsys.readouterr().err
    assert admin(storage, "create-user", "bob", "--customer", "acme", stdin="") == 2
    assert admin(storage, "list-locked", "acme") == 0
    assert capsys.readouterr().out == ""


def test_expiring_lists_imported_tokens(tmp_path, storage, capsys):
    admin(storage, "import-pskc", pskc_file(tmp_path / "s.xml", ["11112222"]))
    capsys.readouterr()
    assert admin(storage, "expiring", "--days", "30") == 0
    assert capsys.readouterr().out == ""
    assert admin(storage, "expiring", "--days", "1900") == 0
    assert capsys.readouterr().out.startswith("11112222\t")
    assert admin(storage, "expiring", "--days", "-5") == 2


def test_a_seed_key_that_does_not_open_the_stored_seeds_is_refused(tmp_path, storage, capsys):
    admin(storage, "import-pskc", pskc_file(tmp_path / "s.xml", ["11112222"]))
    (tmp_path / "seed.key").unlink()  # a new key would be created: it must not silently be used
    assert admin(storage, "list-locked", "acme") == 2
    assert "does not open the seeds" in capsys.readouterr().err


@pytest.mark.parametrize("workers", [1, 2])
def test_fob_serve_creates_its_api_key_and_serves(tmp_path, storage, fob_serve, workers):
    key_file = tmp_path / "api.key"
    server = fob_serve("--api-key-file", str(key_file), *storage, "--workers", str(workers))
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 32
    assert httpx.get(server.base + "/tokens/expiring?days=1").status_code == 401
    auth = {"Authorization": "Bearer " + key}
    assert httpx.get(server.base + "/tokens/expiring?days=1", headers=auth).json() == {"tokens": []}
    assert key not in server.stop()


def test_fob_serve_refuses_a_short_api_key(storage, monkeypatch, capsys):
    monkeypatch.setenv("FOB_API_KEY", "short")
    assert main(["serve", *storage]) == 2
    assert "at least 16" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--user-rate", "ten/60"], ["--source-rate", "0/1"], ["--workers", "0"]])
def test_fob_serve_refuses_bad_options_in_one_line(storage, capsys, option):
    assert main(["serve", *storage, *option]) == 2
    _one_line_error("serve", capsys.readouterr().err)


@pytest.fixture
def clients_file(tmp_path):
    path = tmp_path / "clients"
    path.write_text("127.0.0.1 %s\n" % ("s" * 32))
    path.chmod(0o600)
    return str(path)


SERVER_COMMANDS = {"admin": ["admin", "list-locked", "acme"], "serve": ["serve"], "radius": ["radius", "--clients"]}


@pytest.mark.parametrize("command", sorted(SERVER_COMMANDS))
@pytest.mark.parametrize(
    "db, said",
    [
        ("garbage", "not a database URL"),
        ("sqlite:////nonexistent/dir/auth.db", "cannot open the database"),
        ("text-file", "cannot open the database"),
        ("mysql://user@host/db", "SQLite or PostgreSQL"),
    ],
)
def test_an_unusable_database_is_one_line_exit_2(tmp_path, capsys, clients_file, command, db, said):
    """A typo in --db, a file that is not a database or a missing directory: said in one line, no traceback."""
    if db == "text-file":
        (tmp_path / "notes.txt").write_text("not a database\n" * 100)
        db = "sqlite:///%s" % (tmp_path / "notes.txt")
    argv = SERVER_COMMANDS[command] + ([clients_file] if command == "radius" else [])
    assert main([*argv, "--db", db, "--seed-key-file", str(tmp_path / "seed.key")]) == 2
    assert said in _one_line_error(command, capsys.readouterr().err)


@pytest.mark.parametrize("option", ["--api-key-file", "--seed-key-file"])
def test_a_key_file_in_a_missing_directory_is_one_line_exit_2(tmp_path, storage, capsys, monkeypatch, option):
    monkeypatch.delenv("FOB_API_KEY", raising=False)
    monkeypatch.delenv("FOB_SEED_KEY", raising=False)
    missing = tmp_path / "no" / "such" / "dir" / "key"
    assert main(["serve", *storage, option, str(missing)]) == 2
    assert "cannot create %s" % missing in _one_line_error("serve", capsys.readouterr().err)
    assert not missing.parent.exists()


@pytest.mark.parametrize("command", ["serve", "radius"])
@pytest.mark.parametrize("port", ["99999", "65536", "-1", "0"])
def test_a_port_out_of_range_is_refused_before_anything_listens(storage, capsys, clients_file, command, port):
    """uvicorn would listen on 99999 mod 65536 and print 99999; RADIUS's bind() raised OverflowError."""
    argv = SERVER_COMMANDS[command] + ([clients_file] if command == "radius" else [])
    assert main([*argv, *storage, "--port", port]) == 2
    assert "--port must be 1 to 65535" in _one_line_error(command, capsys.readouterr().err)
