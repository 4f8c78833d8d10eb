"""Ctrl-C at the desk: `fob provision` exits 130 and never leaves a fob holding a seed without saying so."""

import io

import pytest

from fobhost.cli import main
from fobhost.inventory import Inventory
from fobhost.serialclient import DeviceClient

REAL_REQUEST = DeviceClient.request


def interrupt_at(monkeypatch, *commands):
    """Ctrl-C arrives while the host sends each of ``commands`` in turn (before it reaches the fob)."""
    pending = list(commands)

    def request(self, command, fields=()):
        if pending and command == pending[0]:
            pending.pop(0)
            raise KeyboardInterrupt
        return REAL_REQUEST(self, command, fields)

    monkeypatch.setattr(DeviceClient, "request", request)


def provision(fob, inventory_path, *argv):
    return main(["provision", "--port", fob.port, "--inventory", str(inventory_path), "--timeout", "0.5", *argv])


def recorded(inventory_path):
    with Inventory(inventory_path) as inventory:
        return [t.serial for t in inventory.tokens()]


@pytest.mark.parametrize("step", ["SET-TIME", "PROVISION", "CHECK", "SEAL"])
def test_ctrl_c_at_each_step_wipes_and_exits_130(fob, inventory_path, monkeypatch, capsys, step):
    interrupt_at(monkeypatch, step)
    assert provision(fob, inventory_path) == 130
    err = capsys.readouterr().err
    assert "step %s failed: interrupted; the device was wiped" % step in err and "Traceback" not in err
    assert fob.token.state == "BLANK" and recorded(inventory_path) == []


@pytest.mark.parametrize("step", ["CHECK", "SEAL"])
def test_a_second_ctrl_c_during_the_wipe_says_the_fob_holds_an_unrecorded_seed(
    fob, inventory_path, monkeypatch, capsys, step
):
    interrupt_at(monkeypatch, step, "WIPE")
    assert provision(fob, inventory_path) == 130
    err = capsys.readouterr().err
    assert fob.token.state == "ACTIVE" and recorded(inventory_path) == []  # what a second Ctrl-C leaves
    assert "could NOT be wiped" in err and "no inventory holds" in err and "fob wipe" in err
    assert "Traceback" not in err


def test_one_slip_in_a_batch_does_not_end_it(make_fob, fob, inventory_path, monkeypatch, capsys):
    """Enter pressed without swapping fobs: that fob is refused, the batch asks again and goes on."""
    second = make_fob()

    class Desk(io.StringIO):
        presses = 0

        def readline(self):
            self.presses += 1
            if self.presses == 2:  # the first Enter was the slip: the sealed first fob was still plugged in
                fob.device.handler = second.handler
            return "\n" if self.presses <= 2 else ""

    monkeypatch.setattr("sys.stdin", Desk())
    assert provision(fob, inventory_path, "--count", "2") == 0
    captured = capsys.readouterr()
    assert "fob 2 of 2: step INFO failed" in captured.err and "SEALED already" in captured.err
    assert "Plug in fob 2 of 2" in captured.err and captured.err.count("Plug in fob 2 of 2") == 2
    assert second.token.state == "SEALED"
    assert sorted(recorded(inventory_path)) == sorted([fob.token.serial, second.token.serial])


def test_a_batch_stopped_with_ctrl_d_after_a_slip_exits_2_and_keeps_what_was_done(
    make_fob, fob, inventory_path, monkeypatch, capsys
):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))  # one slip, then end of input
    assert provision(fob, inventory_path, "--count", "2") == 2
    assert "stopped before fob 2 of 2" in capsys.readouterr().err
    assert recorded(inventory_path) == [fob.token.serial]


def test_ctrl_c_at_the_prompt_of_a_batch_exits_130(fob, inventory_path, monkeypatch, capsys):
    class CtrlC(io.StringIO):
        def readline(self):
            raise KeyboardInterrupt

    monkeypatch.setattr("sys.stdin", CtrlC())
    assert provision(fob, inventory_path, "--count", "2") == 130
    assert "interrupted" in capsys.readouterr().err
    assert recorded(inventory_path) == [fob.token.serial]


def test_a_batch_that_runs_out_of_serial_numbers_ends_instead_of_asking_again(fob, inventory_path, monkeypatch, capsys):
    with Inventory(inventory_path) as inventory:
        inventory.set_prefix("999999")
    import sqlite3

    db = sqlite3.connect(inventory_path)
    db.execute("INSERT INTO serial_counters VALUES ('999999', 999)")  # one number left
    db.commit()
    db.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("\n" * 5))
    assert provision(fob, inventory_path, "--count", "3") == 2
    err = capsys.readouterr().err
    assert (
        "fob 2 of 3" in err and "no numbers left" in err and "Plug in fob 2" not in err
    )  # not asked for a fob it cannot number
    assert recorded(inventory_path) == [fob.token.serial]
