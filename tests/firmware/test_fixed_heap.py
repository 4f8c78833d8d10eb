"""At the documented minimum fixed heap the fob works; just below it, it fails safely.

The real main.py on the unix port at a fixed heap (tests/fixedheap.py):
a sealed fob answering INFO and showing its code, and a blank fob through
a whole `fob provision` session.  Below the minimum it may reset or refuse,
but never show a prompt, a code CPython would not draw, or a damaged record.
"""

import pytest
from fixedheap import MINIMUM, SCENARIOS

from mpvm import ROOT

# How far below the minimum the failure is checked: the heap a run needs varies by a few KiB
# (fragmentation depends on when collections happen), so "just below" is well clear of that.
BELOW = 24 * 1024


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_fob_works_at_the_documented_minimum_heap(scenario):
    outcome = SCENARIOS[scenario](MINIMUM[scenario])
    assert outcome.ok and outcome.safe, outcome


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_below_the_minimum_the_fob_fails_safely(scenario):
    outcome = SCENARIOS[scenario](MINIMUM[scenario] - BELOW)
    assert not outcome.ok, "the documented minimum is not one: %r" % outcome
    assert outcome.safe, outcome


def test_the_docs_state_the_tested_minimum():
    text = (ROOT / "docs" / "firmware.md").read_text()
    sealed, provisioning = (MINIMUM[name] // 1024 for name in ("sealed fob in use", "provisioning session"))
    row = "| documented minimum (tests/fixedheap.py `MINIMUM`, tested) | %d KiB | %d KiB |" % (sealed, provisioning)
    assert row in text
