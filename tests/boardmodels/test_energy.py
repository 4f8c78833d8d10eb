"""Energy accounting: each board's power profile, the table `make bench` prints and docs/hardware.md carries."""

import json

import pytest

from fobsim.models import energy, power
from fobsim.models.fob import BOARDS, Fob
from fobsim.models.image import ROOT


@pytest.fixture(scope="module")
def figures():
    return energy.measure_all()


def test_the_docs_table_is_the_generated_one(figures):
    docs = energy.DOCS.read_text()
    assert energy.docs_with(docs, energy.table(figures)) == docs, "run python -m fobsim.models.energy --write-docs"


def test_the_latch_builds_meet_the_five_year_targets(figures):
    for f in figures:
        if f.variant == "latch":
            assert f.life_years(4) >= 5 and f.standby_ua <= 5 and f.press_mah <= 0.1, f.board


def test_every_current_in_every_profile_names_its_source():
    for board in BOARDS:
        profile = power.load(board)
        assert profile.sources and all(source.strip() for source in profile.sources.values())


def _profile_root(tmp_path, text):
    board = tmp_path / "boards" / "rp2-pico-ssd1306"
    board.mkdir(parents=True)
    if text is not None:
        (board / "power.json").write_text(text)
    return tmp_path


GOOD = json.loads((ROOT / "boards" / "rp2-pico-ssd1306" / "power.json").read_text())


def _without_source():
    data = json.loads(json.dumps(GOOD))
    del data["currents"]["mcu.sleep"]["source"]
    return json.dumps(data)


def _negative():
    data = json.loads(json.dumps(GOOD))
    data["currents"]["display.on"]["ua"] = -1
    return json.dumps(data)


def _missing_state():
    data = json.loads(json.dumps(GOOD))
    del data["currents"]["mcu.idle"]
    return json.dumps(data)


@pytest.mark.parametrize(
    "text,message",
    [
        (None, "has no power profile"),
        ("{not json", "not readable JSON"),
        ("[]", "not a JSON object"),
        (_without_source(), "currents.mcu.sleep needs a 'ua' and a non-empty 'source'"),
        (_negative(), "currents.display.on.ua must be a number >= 0"),
        (_missing_state(), "no current for mcu.idle"),
        (json.dumps({**GOOD, "variants": {}}), "'variants' must name at least one build"),
    ],
)
def test_a_missing_or_malformed_profile_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(power.ProfileError, match=message.replace("(", r"\(").replace(".", r"\.")):
        power.load("rp2-pico-ssd1306", boards=_profile_root(tmp_path, text) / "boards")


def test_a_board_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(power.ProfileError, match="no board model for 'sim'"):
        Fob("sim", tmp_path, utc=0)
