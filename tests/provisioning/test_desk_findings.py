"""Desk commands that used to answer wrongly or unhelpfully: flash on a sealed fob, label DPI, --serial."""

import time

import pytest
from PIL import Image

from fobhost.cli import main
from fobhost.inventory import Inventory


def seal(fob, serial="55555555"):
    now = int(time.time())
    fob.board.set_time(now)
    fob.token.provision(b"s" * 20, "sha1", 6, 60, serial, now + 86400)
    fob.token.seal()


def test_flash_on_a_sealed_fob_says_wipe_it_first(fob, capsys):
    seal(fob)
    assert main(["flash", "--board", "sim", "--port", fob.port]) == 2
    err = capsys.readouterr().err
    assert "fob 55555555 on %s is sealed" % fob.port in err and "wipe it first: fob wipe --port" in err
    assert fob.token.state == "SEALED"


def test_png_label_carries_its_dpi_so_it_prints_at_its_size(tmp_path):
    out = tmp_path / "label.png"
    assert main(["label", "1000000016", "-o", str(out)]) == 0
    image = Image.open(out)
    dpi = image.info["dpi"]
    assert round(dpi[0]) == round(dpi[1]) == 600
    width_mm = image.size[0] / dpi[0] * 25.4
    assert 20 < width_mm < 35  # as the SVG: 0.25 mm modules and quiet zones, about 27.5 mm


@pytest.mark.parametrize("serial", ["1000000017", "0000000000", "12345678"])
def test_serial_must_carry_a_valid_check_digit(fob, inventory_path, capsys, serial):
    assert main(["provision", "--port", fob.port, "--inventory", str(inventory_path), "--serial", serial]) == 2
    assert "--serial" in capsys.readouterr().err
    assert fob.token.state == "BLANK"


def test_serial_with_a_valid_check_digit_is_used(fob, inventory_path):
    assert main(["provision", "--port", fob.port, "--inventory", str(inventory_path), "--serial", "12345674"]) == 0
    with Inventory(inventory_path) as inventory:
        assert [t.serial for t in inventory.tokens()] == ["12345674"]


def test_the_default_inventory_directory_is_private_even_after_the_simulator_made_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from fobhost import inventory
    from fobsim.simulator import default_root

    default_root().mkdir(parents=True)  # what `make sim` leaves: the fobkit data directory, 0755
    (tmp_path / "data" / "fobkit").chmod(0o755)
    Inventory().close()
    assert inventory.default_path().parent == tmp_path / "data" / "fobkit"
    assert (tmp_path / "data" / "fobkit").stat().st_mode & 0o777 == 0o700
