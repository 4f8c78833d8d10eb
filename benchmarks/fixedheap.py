"""The fixed heap the fob needs: bisected per real board on the unix port (64-bit); measured 32-bit figures.

Each probe boots a board's real stack as `fob flash` installs it (main.py,
board.py, latch.py, drivers, micropython-lib's ssd1306; .mpy files on littlefs)
inside the unix port at ``-X heapsize=N``, its ``machine`` forwarded to the board
models (tests/fixedheap.py, tests/modelvm.py): a sealed fob in use (booted, INFO
answered, its code shown and redrawn) and a provisioning session by the real
`fob provision` over a pty.  A heap counts as enough when it works twice in a
row.  Every probe below the figure must have failed safely: no prompt, no wrong
code, no damaged record.

``wasm32`` measures a 32-bit figure on the WebAssembly port (tests/wasmheap.py)
and the 64-bit to 32-bit ratio of the firmware's live heap.
"""

import functools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the VM harness, shared with the tests

import fixedheap  # noqa: E402
import wasmheap  # noqa: E402

from fobsim.models.fob import BOARDS  # noqa: E402

# Where the bisection looks: below LOW nothing fits the live set, above HIGH everything works.
LOW, HIGH = 64 * 1024, 256 * 1024


def main():
    print(
        "loaded firmware modules (%s) hold %d bytes of heap on the unix port: what freezing moves to flash, at most"
        % (fixedheap.MODULES, fixedheap.module_heap())
    )
    print(
        "of the heap below, tools/mpvm/machinelink.py (machine forwarded to the board models) holds %d bytes;"
        " a board's machine module is built in" % fixedheap.link_heap()
    )
    for board in BOARDS:
        unix_port_figures(board)
    wasm32()


def unix_port_figures(board):
    """Bisect each scenario on ``board``; print the need, the documented minimum and any unsafe probe."""
    for name, scenario in fixedheap.SCENARIOS.items():
        started = time.monotonic()
        needed, probes = fixedheap.bisect(functools.partial(scenario, board), low=LOW, high=HIGH)
        unsafe = [heap for heap, outcomes in probes.items() if not all(o.safe for o in outcomes)]
        documented = fixedheap.MINIMUM[(board, name)]
        print(
            "%s, %s: needs a fixed heap of %d KiB on the unix port (64-bit); documented minimum %d KiB;"
            " 32-bit estimate %d KiB (bisected in %.0f s, %d probes)"
            % (
                board,
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
            print("  MORE than the documented minimum: update MINIMUM in tests/fixedheap.py and docs/firmware-heap.md")


def wasm32():
    """The 32-bit figures: the WebAssembly port's heap it never grows past, per scenario, and the measured ratio."""
    live, ratio = wasmheap.live_ratio()
    print(
        "firmware modules + a decoded record, live heap: %d bytes on the unix port (64-bit), %d on the WebAssembly"
        " port (32-bit): ratio %.2f (measured; tests/fixedheap.py applies %.2f)"
        % (live["unix"], live["webassembly"], ratio, fixedheap.ESTIMATE_32_BIT)
    )
    for name, scenario in wasmheap.SCENARIOS.items():
        started = time.monotonic()
        needed, probes = wasmheap.bisect(scenario)
        failed = [heap for heap, runs in probes.items() if not runs[-1].ok]
        print(
            "%s: the WebAssembly port (32-bit, VM board) never grows its heap from %d KiB on (bisected in %.0f s,"
            " %d probes); each real board's documented 64-bit minimum / measured ratio: %s"
            % (
                name,
                needed // 1024,
                time.monotonic() - started,
                sum(len(runs) for runs in probes.values()),
                ", ".join("%s %d KiB" % (b, fixedheap.MINIMUM[(b, name)] / ratio // 1024) for b in BOARDS),
            )
        )
        if failed:
            print("  the scenario itself failed at: %s KiB" % ", ".join(str(h // 1024) for h in sorted(failed)))
