"""End to end: a CPython fob behind a real pty is provisioned and exported by `fob`, the export is
imported by `fob admin import-pskc`, and the codes the fob shows are registered and verified."""

import pytest
from fakeboard import FakeBoard

from fobauth import errors
from fobauth.database import make_engine
from fobauth.seedbox import SeedBox, load_key
from fobauth.service import AuthService
from fobcore.protocol import DeviceHandler
from fobcore.token import Token
from fobhost.cli import main
from fobhost.ptydevice import PtyDevice


@pytest.fixture
def fob(tmp_path):
    """A token on a fake board (virtual clock) served on a pty, as a fob on USB serial is."""
    board = FakeBoard(tmp_path / "flash")
    token = Token(board)
    device = PtyDevice(DeviceHandler(token))
    yield board, token, device.port
    device.close()
    assert device.error is None


def test_a_provisioned_and_exported_fob_works_with_the_service(fob, tmp_path, capsys):
    board, token, port = fob
    inventory = str(tmp_path / "inventory.sqlite3")
    password = tmp_path / "export.pw"
    password.write_text("export password\n")
    export = str(tmp_path / "seeds.pskcxml")
    database = "sqlite:///%s" % (tmp_path / "auth.db")
    storage = ["--db", database, "--seed-key-file", str(tmp_path / "seed.key")]

    assert main(["provision", "--port", port, "--inventory", inventory]) == 0
    serial = token.serial
    assert main(["export", "--inventory", inventory, "-o", export, "--password-file", str(password)]) == 0
    assert main(["admin", "import-pskc", export, "--password-file", str(password), *storage]) == 0
    assert capsys.readouterr().out.endswith("imported 1 token: %s\n" % serial)

    # The service on that database, its clock the fob's (virtual) one.
    engine = make_engine(database)
    service = AuthService(engine, SeedBox(load_key(tmp_path / "seed.key", environ={})), clock=board.time)
    service.create_user("alice", "acme", "user", "login password", "confirmation password")
    assert service.register("alice", serial, token.code_now()[0]).serial == serial
    board.advance(60)
    code = token.code_now()[0]
    service.verify("alice", code)
    with pytest.raises(errors.Replayed):
        service.verify("alice", code)
    board.advance(60)
    service.verify("alice", token.code_now()[0])
    engine.dispose()
