"""fobauth.decision.decide, the one verification decision, on its own: no database, token state in,
decision out; codes from pyotp."""

import base64
import types

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fobauth import decision
from fobauth.service import Policy

SEED = bytes(range(20))
NOW = 1_800_000_000
STEP = NOW // 60
TOTP = pyotp.TOTP(base64.b32encode(SEED).decode(), interval=60)


def token(**changes):
    fields = dict(digits=6, period=60, algorithm="sha1", expires_at=NOW + 3600, last_step=STEP - 5, drift=0)
    unset = dict(drift_lo=None, drift_hi=None, drift_at=None, previous_drift=None, resync_step=None)
    return types.SimpleNamespace(**{**unset, **fields, **changes})


def code(steps):
    return TOTP.at(NOW + 60 * steps)


def decide(state, codes, **options):
    opened = []

    def open_seed():
        opened.append(True)
        return SEED

    found = decision.decide(state, open_seed, Policy(), NOW, codes, **options)
    return found, bool(opened)


def test_a_right_fresh_code_is_accepted_with_its_step_and_drift():
    # The code appeared within the typing allowance (30 s) before now, somewhere in its step.
    learnt = decision.Decision(decision.ACCEPTED, STEP + 1, 1, 60 - NOW % 60, 150 - NOW % 60, NOW)
    assert decide(token(), [code(1)]) == (learnt, True)


@pytest.mark.parametrize(
    "state, codes, options, outcome",
    [
        (None, [code(0)], {}, decision.NOT_REGISTERED),
        (token(), [code(0)], {"suspended": True}, decision.SUSPENDED),  # even a right code
        (token(expires_at=NOW), [code(0)], {}, decision.EXPIRED),  # from the expiry instant on
        (token(), ["12345x"], {}, decision.BAD_CODE),
        (token(), ["\ud800"], {}, decision.BAD_CODE),
    ],
)
def test_refusals_that_need_no_seed_do_not_open_it(state, codes, options, outcome):
    found, opened = decide(state, codes, **options)
    assert (found.outcome, found.step, opened) == (outcome, None, False)


def test_wrong_replayed_and_outside_the_window():
    assert decide(token(last_step=STEP), [code(0)])[0].outcome == decision.REPLAYED
    assert decide(token(), [code(2)])[0].outcome == decision.WRONG  # window ±1
    assert decide(token(drift=2), [code(2)])[0].outcome == decision.ACCEPTED  # centred on the learnt drift


def test_a_resync_keeps_the_first_position_it_replaced_open():
    first, _ = decide(token(last_step=STEP - 20), [code(-9), code(-8)], resync=True)
    assert (first.outcome, first.step, first.drift) == (decision.ACCEPTED, STEP - 8, -8)
    assert (first.previous_drift, first.resync_step) == (0, STEP)
    moved = token(last_step=first.step, drift=-8, previous_drift=0, resync_step=STEP)
    second, _ = decide(moved, [code(-6), code(-5)], resync=True)
    assert (second.drift, second.previous_drift, second.resync_step) == (-5, 0, STEP)  # the first position
    again = token(last_step=second.step, drift=-5, previous_drift=0, resync_step=STEP)
    real, _ = decide(again, [code(0)])
    assert (real.outcome, real.drift, real.previous_drift, real.resync_step) == (decision.ACCEPTED, 0, None, None)


def test_only_a_code_later_than_the_resync_confirms_its_position():
    resynced = token(last_step=STEP - 8, drift=-8, previous_drift=0, resync_step=STEP)
    seen_before, _ = decide(resynced, [code(-7)])  # could have been seen before the resync
    assert (seen_before.outcome, seen_before.previous_drift, seen_before.resync_step) == (decision.ACCEPTED, 0, STEP)
    later = token(last_step=STEP - 8, drift=-8, previous_drift=0, resync_step=STEP - 8)
    confirmed, _ = decide(later, [code(-7)])  # shown only after the resync
    assert (confirmed.outcome, confirmed.previous_drift, confirmed.resync_step) == (decision.ACCEPTED, None, None)


def test_the_window_is_centred_on_the_learnt_offset_in_seconds_not_the_integer_drift():
    learnt = token(drift=-3, drift_lo=100, drift_hi=110, drift_at=NOW)  # 100-110 s fast
    assert decide(learnt, [code(2)])[0].outcome == decision.ACCEPTED  # shown now or up to 30 s ago: +1 or +2
    assert decide(learnt, [code(-3)])[0].outcome == decision.WRONG  # where the integer drift would centre it


def test_each_code_narrows_the_offset_widened_by_the_drift_since():
    hour_ago = token(drift_lo=-20, drift_hi=70, drift_at=NOW - 3600)  # widened by 1 s: 100 ppm of an hour
    accepted, _ = decide(hour_ago, [code(1)])  # says 60-150 s
    assert (accepted.drift_lo, accepted.drift_hi, accepted.drift_at) == (60, 71, NOW)
    long_ago = token(drift_lo=-20, drift_hi=70, drift_at=NOW - 1_000_000)  # widened by 100 s
    accepted, _ = decide(long_ago, [code(1)])
    assert (accepted.drift_lo, accepted.drift_hi) == (60, 150)


def test_a_disjoint_offset_or_a_resync_starts_the_interval_afresh():
    set_since = token(drift_lo=-100, drift_hi=-70, drift_at=NOW - 60, drift=-2)  # its clock was set since
    accepted, _ = decide(set_since, [code(-1)])  # says -60 to +30 s
    assert (accepted.outcome, accepted.drift_lo, accepted.drift_hi) == (decision.ACCEPTED, -60, 30)
    resynced, _ = decide(token(drift_lo=0, drift_hi=20, drift_at=NOW - 60), [code(6), code(7)], resync=True)
    assert (resynced.drift, resynced.drift_lo, resynced.drift_hi, resynced.drift_at) == (7, 420, 510, NOW)


def test_a_resync_keeps_the_window_centred_on_the_learnt_offset_open():
    learnt = token(last_step=STEP - 20, drift=0, drift_lo=100, drift_hi=110, drift_at=NOW - 60)  # centred on +1
    resynced, _ = decide(learnt, [code(-9), code(-8)], resync=True)
    assert (resynced.outcome, resynced.previous_drift, resynced.resync_step) == (decision.ACCEPTED, 1, STEP)


def _first_code_then_later(period, offset, shown_first, first_delay, later, delay):
    """The decision on a code the token shows ``later`` s after its first (registration) code, each
    typed ``first_delay`` and ``delay`` s after it appeared; the token's clock ``offset`` s off."""
    totp = pyotp.TOTP(base64.b32encode(SEED).decode(), interval=period)
    typed_first = shown_first - offset + first_delay
    known = shown_first // period - typed_first // period  # a far offset is known before (PSKC TimeDrift)
    fresh = token(period=period, expires_at=10**10, last_step=0, drift=known)
    first = decision.decide(fresh, lambda: SEED, Policy(), typed_first, [totp.at(shown_first)])
    assert first.outcome == decision.ACCEPTED
    learnt = dict(drift_lo=first.drift_lo, drift_hi=first.drift_hi, drift_at=first.drift_at)
    registered = token(period=period, expires_at=10**10, last_step=first.step, drift=first.drift, **learnt)
    shown = shown_first + later
    return decision.decide(registered, lambda: SEED, Policy(), shown - offset + delay, [totp.at(shown)]), shown


@settings(max_examples=300, deadline=None)
@given(
    period=st.sampled_from([10, 30, 60]),
    offset=st.integers(-3600, 3600),
    shown_first=st.integers(NOW, NOW + 86400),
    first_delay=st.integers(0, 30),  # Policy.typing_allowance
    later=st.integers(60, 86400),
    change=st.floats(-0.5, 0.5),
)
def test_after_the_first_code_a_code_typed_as_fast_within_half_a_step_is_accepted(
    period, offset, shown_first, first_delay, later, change
):
    """What one code guarantees (docs/server.md, "How drift is learnt"): whatever the token's clock
    offset and the step's phase, the next code is inside the ±1 window when it is typed within half a
    period as fast as the first one was."""
    delay = max(0, first_delay + round(change * period))
    found, shown = _first_code_then_later(period, offset, shown_first, first_delay, later, delay)
    assert (found.outcome, found.step) == (decision.ACCEPTED, shown // period)


def test_after_the_first_code_a_code_typed_much_faster_may_be_refused():
    """The limit of one code, at the times that made tests/micropython_device/test_clock_repair.py fail:
    a 10 s period, registered at 9 s into a step with the code of the step before (typed 10-19 s after
    it appeared, for all the service knows), then a code typed at once 21 s later, at 0 s into a step.
    The window sits where a code typed as late as the first would be: 1 to 3 steps before the one shown."""
    found, shown = _first_code_then_later(10, 0, NOW - 1, 10, 31, 0)
    assert (shown, found.outcome) == (NOW + 30, decision.WRONG)
    found, _ = _first_code_then_later(10, 0, NOW - 1, 10, 31, 5)  # typed within half a period as fast
    assert found.outcome == decision.ACCEPTED
