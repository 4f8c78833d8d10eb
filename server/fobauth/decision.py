"""The verification decision: what happens to the codes typed for a token, as a pure function.

``decide`` reads nothing and writes nothing: given the token's stored state,
the policy, the time and the codes, it answers accepted (with the step to
consume and the clock offset learnt), replayed, wrong, expired, suspended, not
registered or malformed.  Every way a code is checked (verification,
resynchronisation, registration, an administrator's confirmation; the fast
and the general database path of fobauth.acceptance) asks it, so they cannot
disagree.  The database then carries the decision out with conditional
statements, which settle races between requests deciding at the same time.
"""

import dataclasses
import hmac

from fobauth import entry, errors
from fobcore.otp import Otp

# The outcomes are the audit results and error codes of the same name.
ACCEPTED = "ok"
REPLAYED = errors.Replayed.code
WRONG = errors.InvalidCode.code  # counted towards lockout
EXPIRED = errors.Expired.code
SUSPENDED = errors.Suspended.code
NOT_REGISTERED = errors.NotRegistered.code
BAD_CODE = errors.BadCode.code


@dataclasses.dataclass(frozen=True)
class Decision:
    outcome: str
    step: int | None = None  # ACCEPTED: the step consumed (of the last code)
    drift: int | None = None  # ACCEPTED: the accepted step minus the server's step
    drift_lo: int | None = None  # ACCEPTED: the token's clock minus the server's lies in [lo, hi] seconds
    drift_hi: int | None = None
    drift_at: int | None = None  # ACCEPTED: the server's time when that was learnt
    previous_drift: int | None = None  # ACCEPTED: the position (steps) whose window stays open after a resync
    resync_step: int | None = None  # ACCEPTED: the server's step at that resync
    message: str | None = None  # BAD_CODE: what is wrong with it


def decide(token, open_seed, policy, now, codes, suspended=False, resync=False):
    """The decision for ``codes`` (one, or two consecutive ones to resynchronise) typed at ``now``.

    ``token`` has the tokens row's fields (None: the user holds no token); ``open_seed()`` returns its
    seed and is called only when a code has to be compared; ``policy`` is a fobauth.service.Policy.
    """
    if token is None:
        return Decision(NOT_REGISTERED)
    if suspended:
        return Decision(SUSPENDED)
    if now >= token.expires_at:
        return Decision(EXPIRED)
    try:
        codes = [entry.code(code, token.digits) for code in codes]
    except errors.BadCode as error:
        return Decision(BAD_CODE, message=str(error))
    now_step = now // token.period
    position = _position(token, policy, now)
    if resync:
        windows = [(now_step, policy.resync_window)]
    else:
        windows = [(now_step + position, policy.window)]
        if token.previous_drift is not None:
            windows.append((now_step + token.previous_drift, policy.window))
    otp = Otp(open_seed(), token.algorithm, token.digits, token.period)
    steps = _matching(otp, codes, windows)
    fresh = [step for step in steps if step > token.last_step]
    if not fresh:
        return Decision(REPLAYED if steps else WRONG)
    step = fresh[0]
    drift = step - now_step
    kept_open = _position_kept_open(token, policy, now_step, position, step, drift, resync)
    return Decision(ACCEPTED, step, drift, *_offset_learnt(token, policy, now, step, resync), *kept_open)


def _position(token, policy, now):
    """Steps from the server's step to the window's centre: the step the token shows now at the middle
    of its learnt offset and of the typing allowance (docs/server.md, "How drift is learnt"); before any
    code has taught an offset (an imported or migrated token), its integer drift."""
    if token.drift_lo is None:
        return token.drift
    centre = (2 * now - policy.typing_allowance + token.drift_lo + token.drift_hi) // (2 * token.period)
    return centre - now // token.period


def _offset_learnt(token, policy, now, step, resync):
    """(lo, hi, now): the token's clock offset in seconds, learnt from ``step`` accepted at ``now``.  The
    code appeared at most typing_allowance seconds before now, somewhere in its step; the interval known
    before, widened by the crystal's largest drift since, narrows that.  Disjoint intervals mean the
    token's clock was set (or a resync moved it): the new one starts afresh."""
    lo = step * token.period - now
    hi = lo + token.period + policy.typing_allowance
    if resync or token.drift_lo is None:
        return lo, hi, now
    spread = -(-max(0, now - token.drift_at) * policy.max_drift_ppm // 1_000_000)
    narrowed = max(lo, token.drift_lo - spread), min(hi, token.drift_hi + spread)
    return (lo, hi, now) if narrowed[0] > narrowed[1] else (*narrowed, now)


def _position_kept_open(token, policy, now_step, position, step, drift, resync):
    """(previous drift, resync step) to store.  A resync can come from codes someone saw some minutes
    ago, so it keeps the window's position before it (``position``; the first one, over several
    resyncs) open, with the server's step at that time.  A code closes it by matching it, or by matching
    the new position at a step later than the resync's: a code nobody could have seen before the resync."""
    if resync:
        previous = position if token.previous_drift is None else token.previous_drift
        return (None, None) if previous == drift else (previous, now_step)
    if token.previous_drift is None or abs(step - (now_step + token.previous_drift)) <= policy.window:
        return None, None
    return (token.previous_drift, token.resync_step) if step <= token.resync_step else (None, None)


def _matching(otp, codes, windows):
    """The steps of the last of ``codes`` where the token shows them all in a row, the first of them
    inside one of the (centre, radius) windows; earliest first.  Every candidate is compared in
    constant time, whatever matched before."""
    firsts = sorted({s for centre, radius in windows for s in range(max(0, centre - radius), centre + radius + 1)})
    shown = {}
    found = []
    for first in firsts:
        candidate = []
        for i, code in enumerate(codes):
            if first + i not in shown:
                shown[first + i] = otp.hotp(first + i)
            candidate.append(hmac.compare_digest(shown[first + i], code))
        if all(candidate):
            found.append(first + len(codes) - 1)
    return found
