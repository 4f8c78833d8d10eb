"""The fixed heap the fob needs, bisected on the MicroPython unix port (64-bit), and the 32-bit estimate.

Each probe boots the real main.py with the .mpy files `fob flash` installs,
on littlefs, at ``-X heapsize=N`` (tests/fixedheap.py): a sealed fob in use
(INFO answered, its code shown and redrawn) and a provisioning session by
the real `fob provision` over a pty.  A heap counts as enough when it
works twice in a row.  Every probe below the figure must have failed
safely: no prompt, no wrong code, no damaged record.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the VM harness, shared with the tests

import fixedheap  # noqa: E402


def main():
    print(
        "loaded firmware modules (%s) hold %d bytes of heap on the unix port: what freezing moves to flash, at most"
        % (fixedheap.MODULES, fixedheap.module_heap())
    )
    for name, scenario in fixedheap.SCENARIOS.items():
        started = time.monotonic()
        needed, probes = fixedheap.bisect(scenario)
        unsafe = [heap for heap, outcomes in probes.items() if not all(o.safe for o in outcomes)]
        documented = fixedheap.MINIMUM[name]
        print(
            "%s: needs a fixed heap of %d KiB on the unix port (64-bit); documented minimum %d KiB;"
            " 32-bit estimate %d KiB (bisected in %.0f s, %d probes)"
            % (
                name,
                needed // 1024,
                documented // 1024,
                documented / fixedheap.ESTIMATE_32_BIT // 1024,
                time.monotonic() - started,
                sum(len(o) for o in probes.values()),
            )
        )
        failed = sorted(heap // 1024 for heap, outcomes in probes.items() if not outcomes[-1].ok)
        print("  failed (safely unless named below) at: %s KiB" % ", ".join(map(str, failed)))
        if unsafe:
            print("  UNSAFE failures at: %s KiB" % ", ".join(str(h // 1024) for h in sorted(unsafe)))
        if needed > documented:
            print("  MORE than the documented minimum: update MINIMUM in tests/fixedheap.py and docs/firmware.md")
