"""Five simulated years of one fob against the real validation service (benchmarks/fiveyears.py, in make bench)."""

import pytest

from benchmarks.fiveyears import BEGIN, DOC, END, live, table_row


@pytest.fixture(scope="module", params=[2.0, -2.0], ids=["fast", "slow"])
def ds3231(request):
    return live(request.param)


@pytest.fixture(scope="module")
def poor_crystal():
    return live(20.0)


@pytest.fixture(scope="module")
def poor_crystal_away():
    return live(20.0, away_days=60)


def test_a_ds3231_fob_works_for_five_years_without_the_desk(ds3231):
    assert ds3231.codes == 5 * 365 * 3 - 3  # three presses a day, to the day before expiry
    assert ds3231.corrections == 0 and ds3231.unrecovered == 0 and ds3231.forced == 0
    assert ds3231.resyncs == ds3231.false_refusals  # each refusal: one self-service resync
    assert abs(ds3231.worst_offset) == pytest.approx(2e-6 * 5 * 365 * 86400, abs=2)
    assert ds3231.kept_identity


def test_a_ds3231_fob_is_never_falsely_refused(ds3231):
    assert ds3231.false_refusals == 0


def test_a_poor_crystal_in_daily_use_is_followed_by_drift_learning_alone(poor_crystal):
    assert poor_crystal.false_refusals == 0 and poor_crystal.corrections == 0
    assert abs(poor_crystal.worst_offset) == pytest.approx(2e-5 * 5 * 365 * 86400, abs=2)  # never corrected
    assert poor_crystal.kept_identity


def test_a_poor_crystal_left_unused_for_months_is_kept_working_by_resync_and_the_desk(poor_crystal_away):
    assert poor_crystal_away.false_refusals >= 1  # back after 60 days: further off than the window
    assert poor_crystal_away.unrecovered == 0  # every refused code was followed by an accepted resync
    assert poor_crystal_away.corrections >= 1 and poor_crystal_away.forced <= poor_crystal_away.corrections
    assert abs(poor_crystal_away.worst_offset) < 2e-5 * 5 * 365 * 86400  # the desk pulled it back before the end
    assert poor_crystal_away.kept_identity


def test_the_documented_table_is_what_the_simulation_gives(ds3231, poor_crystal, poor_crystal_away):
    page = DOC.read_text()
    table = page.split(BEGIN)[1].split(END)[0]
    assert all(table_row(life) in table for life in (ds3231, poor_crystal, poor_crystal_away))
