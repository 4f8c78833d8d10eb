"""The heap the fob needs on a 32-bit build: the WebAssembly port (wasm32), measured as the heap it never grows past.

This port grows its heap instead of failing (MICROPY_GC_SPLIT_HEAP_AUTO;
tools/mpvm/board.mjs says how growth is watched), so a figure here is the
smallest first heap at which a run never adds a heap area: the fixed heap a
32-bit board would need if it collected garbage only between the VM's steps.
A board also collects inside an allocation that fails, so this is an upper
bound.  The scenarios are those of tests/fixedheap.py, on the VM board
(boards/sim): a sealed fob in use and a `fob provision` session.

``live_ratio`` measures what a 64-bit build spends against a 32-bit one on
the same objects: the live heap of the firmware's modules and a decoded
record, the same .mpy files, on the unix port and on this one.
"""

import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fixedheap
from flashimage import flash_firmware, store_record

from fobcore.wire import encode_frame
from fobsim.clock import VirtualClock
from fobsim.micropython_engine import MicroPythonDevice
from mpvm import run

FOB = str(Path(sys.executable).with_name("fob"))
WATCH_MS = 1  # how often board.mjs checks and collects the heap: between nearly every two steps
FIRMWARE = "fobcore.app fobcore.mainloop fobcore.protocol fobcore.record fobcore.render fobcore.token"


class Run:
    """One run at a first heap of ``heapsize`` bytes: whether it did its job (``ok``) and whether the heap grew."""

    def __init__(self, heapsize, ok, grown):
        self.heapsize, self.ok, self.grown = heapsize, ok, grown

    @property
    def fits(self):
        return self.ok and self.grown is False

    def __repr__(self):
        return "<Run %d B ok=%s grown=%s>" % (self.heapsize, self.ok, self.grown)


def _board(work, heapsize, sealed):
    flash = work / "token" / "flash"
    flash_firmware(flash)
    if sealed:
        store_record(flash, sealed=True)
    clock = VirtualClock()
    clock.set(time.time())  # a set RTC: the sealed fob shows codes
    return MicroPythonDevice(work / "token", clock=clock, heapsize=heapsize, heap_watch_ms=WATCH_MS)


def sealed_in_use(heapsize, seconds=1.0):
    """A sealed fob boots, answers INFO over serial, is pressed and shows its code for ``seconds``."""
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        board = _board(Path(tmp), heapsize, sealed=True)
        board.on_event = lambda event: event["event"] == "frame" and frames.append(event)
        with board, open(board.port, "r+b", buffering=0) as line:
            board.heap()  # main.py has reached its first await
            line.write(encode_frame(1, "INFO"))
            answer, deadline = b"", time.monotonic() + 10
            while b"state=SEALED" not in answer and time.monotonic() < deadline:
                answer += _read(line)
            board.press()
            time.sleep(seconds)
            heap = board.heap()
    return Run(heapsize, b"state=SEALED" in answer and bool(frames) and board.boots == 1, heap["grown"])


def _read(line):
    ready, _, _ = select.select([line], [], [], 0.1)
    return line.read(256) if ready else b""


def provisioning(heapsize):
    """A blank fob provisioned and sealed by the real `fob provision` over the VM board's pty."""
    with tempfile.TemporaryDirectory() as tmp:
        board = _board(Path(tmp), heapsize, sealed=False)
        with board:
            board.heap()
            done = subprocess.run(
                [FOB, "provision", "--port", board.port, "--inventory", str(Path(tmp) / "inventory.sqlite3")],
                capture_output=True,
                text=True,
                timeout=120,
            )
            heap = board.heap()
    provisioned = done.returncode == 0 and "provisioned and sealed" in done.stdout
    return Run(heapsize, provisioned and board.boots == 1, heap["grown"])  # (a reset would hide a growth)


SCENARIOS = {"sealed fob in use": sealed_in_use, "provisioning session": provisioning}


def bisect(scenario, low=16 * 1024, high=256 * 1024):
    """The smallest first heap (to 1 KiB) at which ``scenario`` works without growing twice in a row; and
    every probe's runs."""
    return fixedheap.bisect(scenario, low, high, good=lambda run: run.fits)


def _live_script(port):
    # This port collects only when control returns to JavaScript (ports/webassembly/main.c, gc_collect):
    # its script awaits once after gc.collect() for the collection to happen.
    collect = "gc.collect()\n" + ("await asyncio.sleep(0)\n" if port == "webassembly" else "")
    return (
        "import gc\nimport asyncio\n"
        + collect
        + "before = gc.mem_alloc()\n"
        + "".join("import %s\n" % name for name in FIRMWARE.split())
        + "record = fobcore.record.decode(open('/data/seed.rec', 'rb').read())\n"
        + collect
        + "print(gc.mem_alloc() - before)\n"
    )


def live_heap(port):
    """Live heap bytes the firmware's modules and a decoded record hold on ``port`` (the same .mpy files)."""
    with tempfile.TemporaryDirectory() as tmp:
        flash = Path(tmp) / "flash"
        flash_firmware(flash)
        store_record(flash, sealed=True)
        script = _live_script(port)
        return int(run(script, copies=[(flash, "/")], heapsize=4 * 1024 * 1024, port=port, asynchronous=True))


def live_ratio():
    """{port: live bytes}, and unix / webassembly: what a 64-bit build needs per byte a 32-bit one does."""
    live = {port: live_heap(port) for port in ("unix", "webassembly")}
    return live, live["unix"] / live["webassembly"]
