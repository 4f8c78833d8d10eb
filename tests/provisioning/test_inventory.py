"""The inventory on real SQLite: encrypted seeds, the key file, serial numbers that are never reused."""

import os
import sqlite3

import pytest

from fobhost import inventory as inventory_module
from fobhost import serials
from fobhost.cli import main
from fobhost.inventory import Inventory, InventoryError

SEED = bytes(range(7, 27))


def record(inventory, serial, seed=SEED):
    inventory.record(serial, seed, "sha1", 6, 60, 1_900_000_000, "fake", "0.1.0")


def test_key_file_is_created_private_and_seeds_are_encrypted(inventory_path):
    with Inventory(inventory_path) as inventory:
        record(inventory, "1000000016")
        assert inventory.seed("1000000016") == SEED
    key_path = inventory_module.key_path_for(inventory_path)
    assert os.stat(key_path).st_mode & 0o777 == 0o600 and len(key_path.read_bytes()) == 32
    assert os.stat(inventory_path).st_mode & 0o777 == 0o600
    stored = inventory_path.read_bytes()
    assert SEED not in stored and SEED.hex().encode() not in stored


def test_a_seed_moved_to_another_row_does_not_decrypt(inventory_path):
    with Inventory(inventory_path) as inventory:
        record(inventory, "1000000016")
        record(inventory, "1000000024", bytes(20))
    db = sqlite3.connect(inventory_path)
    db.execute(
        "UPDATE tokens SET (seed_nonce, seed_ciphertext) = "
        "(SELECT seed_nonce, seed_ciphertext FROM tokens WHERE serial = '1000000016') WHERE serial = '1000000024'"
    )
    db.commit()
    db.close()
    with Inventory(inventory_path) as inventory, pytest.raises(InventoryError, match="does not decrypt"):
        inventory.seed("1000000024")


def test_another_key_file_cannot_read_the_seeds(inventory_path):
    with Inventory(inventory_path) as inventory:
        record(inventory, "1000000016")
    key_path = inventory_module.key_path_for(inventory_path)
    key_path.write_bytes(os.urandom(32))
    with Inventory(inventory_path) as inventory, pytest.raises(InventoryError) as raised:
        inventory.seed("1000000016")
    assert "wrong key file" in str(raised.value) and str(key_path) in str(raised.value)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda key: os.chmod(key, 0o640), "readable by others (mode 640)"),
        (lambda key: key.write_bytes(b"short"), "not an inventory key file (5 bytes)"),
    ],
)
def test_unsafe_or_damaged_key_files_are_refused(inventory_path, damage, message):
    Inventory(inventory_path).close()
    damage(inventory_module.key_path_for(inventory_path))
    with pytest.raises(InventoryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Inventory(inventory_path)


def test_a_lost_key_file_is_not_silently_replaced(inventory_path):
    """A new key would leave the recorded seeds unreadable and mix two keys in one inventory."""
    with Inventory(inventory_path) as inventory:
        record(inventory, "1000000016")
    key_path = inventory_module.key_path_for(inventory_path)
    key_path.unlink()
    stored = inventory_path.read_bytes()
    with pytest.raises(InventoryError, match="key file .* is missing: the 1 seed"):
        Inventory(inventory_path)
    assert not key_path.exists() and inventory_path.read_bytes() == stored


def test_a_key_file_is_created_for_an_inventory_without_seeds(inventory_path):
    Inventory(inventory_path).close()
    key_path = inventory_module.key_path_for(inventory_path)
    key_path.unlink()
    with Inventory(inventory_path) as inventory:
        record(inventory, "1000000016")
        assert inventory.seed("1000000016") == SEED


@pytest.mark.parametrize(
    "argv",
    [
        ["inventory"],
        ["export", "--plaintext", "-o", "out.csv", "--format", "csv"],
        ["export", "--plaintext", "-o", "x"],
    ],
)
def test_reading_commands_do_not_create_an_inventory_at_a_mistyped_path(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--inventory", str(tmp_path / "typo.sqlite3")]) == 2
    assert "typo.sqlite3: no inventory there" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_an_inventory_is_refused(inventory_path):
    inventory_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InventoryError, match="not a usable inventory"):
        Inventory(inventory_path)


def test_default_location_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert inventory_module.default_path() == tmp_path / "xdg" / "fobkit" / "inventory.sqlite3"


def test_luhn():
    assert serials.luhn_valid("79927398713") and not serials.luhn_valid("79927398710")
    assert serials.luhn_digit("7992739871") == "3"
    for n in range(1, 2000):
        number = serials.automatic("10", n)
        assert len(number) == 10 and serials.luhn_valid(number)
        # Every single-digit error is caught.
        for i in range(10):
            for d in "0123456789":
                if d != number[i]:
                    assert not serials.luhn_valid(number[:i] + d + number[i + 1 :])


def test_automatic_serials_advance_and_are_never_reused(inventory_path):
    with Inventory(inventory_path) as inventory:
        first = inventory.next_serial()
        assert first == "1000000016" and inventory.next_serial() == first  # peeking reserves nothing
        record(inventory, first)
        second = inventory.next_serial()
        assert second == "1000000024"
        record(inventory, serials.automatic("10", 3))  # someone typed the third one by hand
        record(inventory, second)
        assert inventory.next_serial() == serials.automatic("10", 4)
        record(inventory, "99999999")  # a manual number outside the scheme changes nothing
        assert inventory.next_serial() == serials.automatic("10", 4)
        with pytest.raises(InventoryError, match="1000000016 is already in the inventory"):
            record(inventory, first)
        assert len(inventory.tokens()) == 4


def test_prefix_is_stored_and_checked(inventory_path):
    with Inventory(inventory_path) as inventory:
        inventory.set_prefix("777")
    with Inventory(inventory_path) as inventory:
        assert inventory.next_serial().startswith("777") and serials.luhn_valid(inventory.next_serial())
        for bad in ("", "12a", "1234567"):
            with pytest.raises(ValueError):
                inventory.set_prefix(bad)
    with pytest.raises(ValueError, match="no numbers left"):
        serials.automatic("123456", 1000)


def test_inventory_command_lists_without_seeds(inventory_path, capsys):
    with Inventory(inventory_path) as inventory:
        record(inventory, "1000000016")
    assert main(["inventory", "--inventory", str(inventory_path), "--set-prefix", "42"]) == 0
    out = capsys.readouterr().out
    assert "1000000016    sha1" in out and "next automatic serial number 4200000018" in out
    assert SEED.hex() not in out
    assert main(["inventory", "--inventory", str(inventory_path), "--set-prefix", "x"]) == 2
    assert "serial prefix must be 1 to 6 digits" in capsys.readouterr().err


def test_record_repr_has_no_seed(inventory_path):
    with Inventory(inventory_path) as inventory:
        record(inventory, "1000000016")
        [token] = inventory.tokens()
    assert repr(token) == "TokenRecord(serial='1000000016', algorithm='sha1', digits=6, period=60)"
