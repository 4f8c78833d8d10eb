"""`fob sim --board NAME` has a USB serial port: a real pty, plugged in while a host holds it open.

`fob provision` and `fob info` (pyserial on the pty) talk to the real firmware on the board's model,
paced to real time; the cell is not drawn on while the host holds the port.
"""

import io
import json
import re
import threading

import pytest
import serial

from fobhost.cli import main
from fobsim.boardsim import BoardSim
from fobsim.events import EventLog


@pytest.fixture
def board_sim(tmp_path):
    out = io.StringIO()
    sim = BoardSim("rp2-pico-ssd1306", tmp_path / "token", events=EventLog(out))
    thread = threading.Thread(target=sim.run, daemon=True)
    thread.start()
    yield sim, out
    sim.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_fob_provision_and_fob_info_work_against_the_board_model(board_sim, tmp_path, capsys):
    sim, out = board_sim
    inventory = str(tmp_path / "inventory.sqlite3")
    assert main(["provision", "--port", sim.port_path, "--inventory", inventory]) == 0
    assert "provisioned and sealed" in capsys.readouterr().out
    assert main(["info", "--port", sim.port_path]) == 0
    info = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert info["board"] == "rp2-pico-ssd1306" and info["state"] == "SEALED"
    offset = re.fullmatch(r".* UTC \(device - host: ([+-]\d+) s, to the second\)", info["clock"])
    assert offset and abs(int(offset.group(1))) <= 1, info["clock"]  # SET-TIME reached the DS3231
    usb = [json.loads(line) for line in out.getvalue().splitlines() if '"usb"' in line]
    assert usb and usb[0]["plugged"] is True and usb[0]["port"] == sim.port_path


def test_the_cable_is_in_only_while_a_host_holds_the_port(board_sim):
    sim, _ = board_sim
    _wait_for(lambda: sim.fob.screens())  # booted on the cell
    assert not sim.fob.usb and sim.battery() < 100
    with serial.Serial(sim.port_path, timeout=5) as port:
        port.write(b"FOB1 0001 INFO *" + b"%04X" % _crc(b"FOB1 0001 INFO") + b"\n")
        reply = port.readline()
        assert reply.startswith(b"FOB1 0001 OK ") and b"board=rp2-pico-ssd1306" in reply
        assert sim.fob.usb
        on_usb = sim.battery()
        threading.Event().wait(0.5)
        assert sim.battery() == on_usb, "the cell was drawn on while USB supplied the board"
    _wait_for(lambda: not sim.fob.usb)
    _wait_for(lambda: sim.battery() < on_usb)  # on the cell again


def _crc(data):
    from fobcore.wire import crc16

    return crc16(data)


def _wait_for(condition, seconds=5.0):
    done = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError("not within %s s" % seconds)


def test_fob_sim_board_names_its_port_and_fob_info_reads_it(tmp_path):
    from simproc import SimProcess, fob

    with SimProcess(tmp_path / "fob", "--board", "esp32c3-ssd1306") as sim:
        assert sim.ready["board"] == "esp32c3-ssd1306"
        done = fob("info", "--port", sim.port)  # the port held open: USB in, so the C3 stays awake
        assert "esp32c3-ssd1306" in done.stdout and "BLANK" in done.stdout
