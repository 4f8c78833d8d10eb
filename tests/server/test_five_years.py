"""Five simulated years of one fob against the real validation service (benchmarks/fiveyears.py, in make bench)."""

import pytest

from benchmarks.fiveyears import BEGIN, DOC, END, live, table_row


@pytest.fixture(scope="module")
def ds3231():
    return live(2.0)


@pytest.fixture(scope="module")
def poor_crystal():
    return live(20.0)


def test_a_ds3231_fob_works_for_five_years_without_the_desk(ds3231):
    assert ds3231.codes == 5 * 365 * 3 - 3  # three presses a day, to the day before expiry
    assert ds3231.corrections == 0 and ds3231.unrecovered == 0 and ds3231.forced == 0
    assert ds3231.resyncs == ds3231.false_refusals  # each refusal: one self-service resync
    assert abs(ds3231.worst_offset) == pytest.approx(2e-6 * 5 * 365 * 86400, abs=2)
    assert ds3231.kept_identity


@pytest.mark.xfail(
    strict=True,
    reason="the service learns drift from the latest accepted code, typing delay included, and accepts one step"
    " either side of it: with the fob 3-30 s off a step boundary three step differences occur (docs/fiveyears.md)",
)
def test_a_ds3231_fob_is_never_falsely_refused(ds3231):
    assert ds3231.false_refusals == 0


def test_a_poor_crystal_is_kept_working_by_drift_learning_and_the_desk(poor_crystal):
    assert poor_crystal.unrecovered == 0  # every refused code was followed by an accepted resync
    assert poor_crystal.corrections >= 1 and poor_crystal.forced <= poor_crystal.corrections
    assert abs(poor_crystal.worst_offset) < 2e-5 * 5 * 365 * 86400  # the desk pulled it back before the end
    assert poor_crystal.kept_identity


def test_the_documented_table_is_what_the_simulation_gives(ds3231, poor_crystal):
    page = DOC.read_text()
    table = page.split(BEGIN)[1].split(END)[0]
    assert table_row(ds3231) in table and table_row(poor_crystal) in table
