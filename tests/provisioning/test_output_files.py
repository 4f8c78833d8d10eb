"""No output file the user needs is ever lost: `fob export`, `fob label` and `fob sim --screenshot`."""

import os
import stat
from pathlib import Path

import pytest

from fobhost.cli import main
from fobhost.inventory import Inventory

SEED = bytes(range(20))


@pytest.fixture
def filled(inventory_path):
    with Inventory(inventory_path) as inventory:
        inventory.record("1000000016", SEED, "sha1", 6, 60, 1_900_000_000, "fake", "0.1.0")
    return inventory_path


def export(inventory_path, *argv):
    return main(["export", "--inventory", str(inventory_path), *map(str, argv)])


def snapshot(*paths):
    return {str(path): path.read_bytes() for path in paths}


def test_export_refuses_an_existing_file_unless_forced(filled, tmp_path, capsys):
    out = tmp_path / "seeds.pskc"
    out.write_bytes(b"yesterday's export")
    assert export(filled, "-o", out, "--plaintext") == 2
    assert "already exists: pass --force to replace it" in capsys.readouterr().err
    assert out.read_bytes() == b"yesterday's export"
    assert export(filled, "-o", out, "--plaintext", "--force") == 0
    assert b"KeyPackage" in out.read_bytes() and stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["inventory.sqlite3", "inventory.sqlite3.key", "seeds.pskc"]


@pytest.mark.parametrize("victim", ["inventory", "key", "password", "psk", "inventory-via-symlinked-dir"])
def test_export_never_writes_over_the_files_it_uses(filled, tmp_path, capsys, victim):
    (tmp_path / "pw.txt").write_text("correct horse\n")
    (tmp_path / "desk.key").write_text("00" * 32 + "\n")
    (tmp_path / "alias").symlink_to(tmp_path)
    kept = snapshot(filled, tmp_path / "inventory.sqlite3.key", tmp_path / "pw.txt", tmp_path / "desk.key")
    protection = ["--psk-file", tmp_path / "desk.key"] if victim == "psk" else ["--password-file", tmp_path / "pw.txt"]
    target = {
        "inventory": filled,
        "key": tmp_path / "inventory.sqlite3.key",
        "password": tmp_path / "pw.txt",
        "psk": tmp_path / "desk.key",
        "inventory-via-symlinked-dir": tmp_path / "alias" / "inventory.sqlite3",
    }[victim]
    assert export(filled, "-o", target, *protection, "--force") == 2
    assert "in use: name another output file" in capsys.readouterr().err
    assert snapshot(*map(Path, kept)) == kept
    with Inventory(filled) as inventory:
        assert inventory.seed("1000000016") == SEED


def test_export_never_replaces_a_device_or_follows_a_symlink(filled, tmp_path, capsys):
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    other = tmp_path / "precious.txt"
    other.write_text("keep me")
    link = tmp_path / "link.pskc"
    link.symlink_to(other)
    for target, message in [
        (device, "is a device, not a regular file"),
        ("/dev/null", "is a device, not a regular file"),
        (fifo, "is a pipe, not a regular file"),
        (tmp_path, "is a directory, not a regular file"),
        (link, "is a symbolic link"),
        ("", "no output file named"),
        (tmp_path / "missing" / "x.pskc", "no directory"),
    ]:
        assert export(filled, "-o", target, "--plaintext", "--force") == 2, target
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (target, err)
    assert stat.S_ISCHR(os.lstat(device).st_mode) and stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.path.islink(link) and other.read_text() == "keep me"


def test_label_refuses_to_overwrite_unless_forced(tmp_path, capsys):
    out = tmp_path / "label.svg"
    out.write_text("another fob's label")
    assert main(["label", "1000000016", "-o", str(out)]) == 2
    assert "pass --force" in capsys.readouterr().err and out.read_text() == "another fob's label"
    assert main(["label", "1000000016", "-o", str(out), "--force"]) == 0
    assert b"<svg" in out.read_bytes()
    assert main(["label", "1000000016", "-o", str(tmp_path / "new.png")]) == 0
    (tmp_path / "d.png").mkdir()
    assert main(["label", "1000000016", "-o", str(tmp_path / "d.png"), "--force"]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["directory", "existing", "device"])
def test_sim_screenshot_is_checked_before_the_simulator_starts(tmp_path, capsys, kind):
    target = tmp_path / "shot.png"
    if kind == "directory":
        target.mkdir()
    elif kind == "existing":
        target.write_bytes(b"a photo")
    else:
        os.mknod(target, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    argv = ["sim", "--headless", "--dir", str(tmp_path / "fob"), "--screenshot", str(target)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("fob sim: error: ") and "Traceback" not in err
    assert not (tmp_path / "fob").exists()
    if kind == "existing":
        assert target.read_bytes() == b"a photo"
