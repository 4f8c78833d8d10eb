"""The simulator's Tk window on a real X server (Xvfb): click the button, compare the pixels."""

import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageGrab

from fobsim import screen
from fobsim.window import MARGIN
from peers import require
from simproc import SimProcess, fob

ROOT = Path(__file__).resolve().parents[2]
SCALE = 4
PAD = 12  # the canvas's padding inside the window


@pytest.fixture
def xvfb():
    require("Xvfb", "xvfb")
    require("xdotool", "xdotool")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as announced:
        display = ":" + announced.readline().strip()
    yield display
    server.terminate()
    server.wait(timeout=10)


def _xdotool(display, *args):
    done = subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, env={**os.environ, "DISPLAY": display}, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _display_rows(image, origin, width, height):
    """The display's pixels read back from a screenshot: the centre of each scaled pixel."""
    x0, y0 = origin
    on = screen.ON
    return [
        [1 if image.getpixel((x0 + x * SCALE + 1, y0 + y * SCALE + 1)) == on else 0 for x in range(width)]
        for y in range(height)
    ]


def test_click_shows_the_code_and_the_window_shows_the_framebuffer(tmp_path, xvfb):
    shot = tmp_path / "framebuffer.png"
    # Time runs 1000x slower than the host's: nothing redraws while the test looks.
    options = ("--blank", "--name", "w", "--speed", "0.001", "--screenshot", shot, "--scale", SCALE)
    with SimProcess(tmp_path / "w", *options, env={"DISPLAY": xvfb}, headless=False) as sim:
        sim.next_event("state", state="BLANK")
        fob("provision", "--port", sim.port, "--inventory", tmp_path / "inventory.sqlite3")
        sim.next_event("state", state="SEALED")
        window = _xdotool(xvfb, "search", "--sync", "--name", "^fobkit simulator .* w$").split()[0]
        geometry = dict(line.split("=") for line in _xdotool(xvfb, "getwindowgeometry", "--shell", window).split())
        left, top = int(geometry["X"]), int(geometry["Y"])
        body_width = 128 * SCALE + 2 * MARGIN
        button = (PAD + body_width // 2, PAD + MARGIN + 32 * SCALE + 62)
        assert not [e for e in sim.pending_events() if e["event"] == "code"]

        _xdotool(xvfb, "mousemove", "--window", window, *map(str, button), "click", "1")
        code = sim.next_event("code")
        assert len(code["code"]) == 6

        expected = screen.pixel_rows(_vlsb(Image.open(shot)), 128, 32)
        grabbed = ImageGrab.grab(xdisplay=xvfb)
        artefacts = ROOT / "artifacts"
        artefacts.mkdir(exist_ok=True)
        grabbed.crop((left, top, left + body_width + 2 * PAD, top + 400)).save(artefacts / "simulator-window.png")
        assert _display_rows(grabbed, (left + PAD + MARGIN, top + PAD + MARGIN), 128, 32) == expected
        assert sum(map(sum, expected)) > 200  # six large digits are lit


def _vlsb(image):
    """The screenshot file back into MONO_VLSB bytes, as the firmware's buffer holds them."""
    image = image.convert("RGB")
    width, height = image.size
    buffer = bytearray(width * height // 8)
    for y in range(height):
        for x in range(width):
            if image.getpixel((x, y)) == screen.ON:
                buffer[(y >> 3) * width + x] |= 1 << (y & 7)
    return buffer


def test_enter_presses_the_button_and_the_window_says_how(tmp_path, xvfb, monkeypatch):
    with SimProcess(tmp_path / "w", "--blank", "--name", "w", env={"DISPLAY": xvfb}, headless=False) as sim:
        sim.next_event("state", state="BLANK")
        window = _xdotool(xvfb, "search", "--sync", "--name", "^fobkit simulator .* w$").split()[0]
        _xdotool(xvfb, "windowfocus", "--sync", window)
        _xdotool(xvfb, "key", "--window", window, "Return")
        assert sim.next_event("press")["shows"] == "BLANK"

    from fobsim.window import FobWindow

    monkeypatch.setenv("DISPLAY", xvfb)
    shown = FobWindow(128, 32, lambda: None)
    try:
        assert "click" in shown.hint.cget("text") and "Enter" in shown.hint.cget("text")
    finally:
        shown.root.destroy()
