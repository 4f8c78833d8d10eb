"""`--json-events` says the same things the same way under both engines (one fobsim.observer)."""

import re
import subprocess
import sys

import pytest

from simproc import SimProcess, fob

MPREMOTE = (sys.executable, "-m", "mpremote")


@pytest.mark.parametrize("engine", ["cpython", "micropython"])
def test_events_of_a_blank_fob_then_presses(tmp_path, engine):
    with SimProcess(tmp_path / "fob", "--engine", engine, "--blank", "--display-timeout", "3600") as sim:
        ready = sim.ready
        assert ready["engine"] == engine and ready["state"] == "BLANK" and ready["serial"] is None
        if engine == "micropython":
            assert "flashed sim" in fob("flash", "--board", "sim", "--port", sim.port).stdout
        state = sim.next_event("state", state="BLANK")
        assert state["serial"] is None
        assert "serial      -\n" in fob("info", "--port", sim.port).stdout  # no serial: null in events, - in fob info

        sim.press()
        assert sim.next_event("press")["shows"] == "BLANK"
        assert fob("provision", "--port", sim.port, "--inventory", tmp_path / "inv").returncode == 0
        serial = sim.next_event("state", state="SEALED")["serial"]
        sim.press()
        first = sim.next_event("press")
        sim.press()  # the code is already shown: this press is seen too
        second = sim.next_event("press")
        for press in (first, second):
            assert press["shows"] == "code" and press["serial"] == serial and len(press["code"]) == 6
        assert isinstance(first["time"], int) and first["seconds_left"] >= 0

        sim.send("long-press", ms=4000)  # held past the firmware's 3 s: the information screen
        assert sim.next_event("press")["shows"] == "code"
        info = sim.next_event("info")
        assert info["serial"] == serial and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", info["time"])


def test_a_reset_while_the_display_is_on_pairs_every_on_with_an_off(tmp_path):
    with SimProcess(tmp_path / "fob", "--engine", "micropython", "--blank", "--display-timeout", "3600") as sim:
        assert "flashed sim" in fob("flash", "--board", "sim", "--port", sim.port).stdout
        sim.next_event("state", state="BLANK")
        sim.press()
        sim.next_event("display", on=True)
        done = subprocess.run(
            [*MPREMOTE, "connect", sim.port, "reset"], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        sim.next_event("display", on=False)  # the reset switched the panel off
        sim.press()
        sim.next_event("display", on=True)


class Events:
    def __init__(self):
        self.emitted = []

    def emit(self, event, **fields):
        self.emitted.append(dict(fields, event=event))


def test_a_micropython_code_event_carries_the_second_the_code_was_drawn_for(tmp_path):
    """The host reads the frame a moment later, across a step boundary: the event keeps the drawn second."""
    from fobcore.app import App
    from fobcore.token import Token
    from fobsim.flashview import _FlashMirror
    from fobsim.micropython_engine import MicroPythonSimulator
    from oracles import pyotp_totp_at

    seed, drawn_at = bytes(range(20)), 1_800_000_059  # the last second of a 60 s step
    events = Events()
    simulator = MicroPythonSimulator(tmp_path / "fob", blank=True, events=events)
    try:
        mirror = _FlashMirror(simulator.vm.flash, 128, 32)
        mirror.now = drawn_at
        Token(mirror).provision(seed, "sha1", 6, 60, "1000000016", drawn_at + 86400)
        app = App(mirror)
        app.draw(app.view())  # what the VM's firmware draws at drawn_at
        simulator.vm.clock.set(drawn_at + 1.2)  # ...and the host reads it in the next step
        simulator._on_event({"event": "power", "on": True})
        simulator._on_event({"event": "frame", "data": bytes(mirror.framebuffer.buf).hex(), "fob": drawn_at + 0.4})
    finally:
        simulator.vm.stop()
    [code] = [e for e in events.emitted if e["event"] == "code"]
    assert code["time"] == drawn_at and code["code"] == pyotp_totp_at(seed, drawn_at)
