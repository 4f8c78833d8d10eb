"""`fob sim --board NAME`: a token on a board's model, with its battery level in the JSON events."""

import io
import json

from modelfob import SEED, code_frame

from fobcore.record import Record, Store
from fobhost.cli import main
from fobsim import tokendir
from fobsim.boardsim import BoardSim
from fobsim.events import EventLog
from fobsim.models.fob import BOARDS


def test_the_board_model_shows_the_code_and_the_battery_falls(tmp_path):
    Store(str(tokendir.flash_dir(tmp_path) / "data")).save(Record(SEED, "sha1", 6, 30, "20260042", 2**31, True))
    out = io.StringIO()
    sim = BoardSim("esp32c3-ssd1306", tmp_path, speed=1e9, events=EventLog(out))
    sim.press()  # at once: the fob is already showing the boot's code; the press restarts its timeout
    sim.run(seconds=40)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert events and all(e["event"] == "frame" for e in events)
    levels = [e["battery"] for e in events]
    assert levels == sorted(levels, reverse=True) and 99 < levels[-1] < 100
    t, frame = sim.fob.screens()[0]
    assert frame == code_frame(sim.fob, t)
    assert sim.status_line().startswith("battery 99.") and "display off" in sim.status_line()


def test_a_board_without_a_model_or_build_is_a_clear_error(tmp_path, capsys):
    modelled = "(modelled: %s)" % ", ".join(sorted(BOARDS))
    for board in ("sim", "nosuch"):  # the simulator's own board, and a typo: named, with those there are
        assert main(["sim", "--board", board, "--dir", str(tmp_path / board)]) == 2
        assert "--board: no board model for '%s' %s" % (board, modelled) in capsys.readouterr().err
    assert main(["sim", "--board", "rp2-pico-ssd1306", "--build", "solar", "--dir", str(tmp_path / "b")]) == 2
    assert "has no 'solar' build (builds: plain, latch)" in capsys.readouterr().err
    assert main(["sim", "--board", "rp2-pico-ssd1306", "--demo", "--dir", str(tmp_path / "c")]) == 2
    assert "--board runs the token as it is" in capsys.readouterr().err
