"""The fob at a fixed heap on the unix port, per real board: a sealed fob in use and a provisioning session.

Shared by tests/firmware/test_fixed_heap.py (passes at the documented
minimum, fails safely just below it) and `make bench` (benchmarks/fixedheap.py,
which bisects the minimum).  Each run boots the board's real stack as `fob flash`
installs it (main.py, board.py, latch.py, the drivers, micropython-lib's ssd1306;
.mpy files on littlefs) inside the unix port at ``-X heapsize=N``, on the board
models (tests/modelvm.py: ``machine`` forwarded to them, time real), with its USB
serial on a pty.
"""

import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from flashimage import board_firmware, flash_unix_firmware, store_record
from modelvm import MicroPythonEngine

from fobcore.record import decode
from fobcore.wire import encode_frame
from fobsim.micropython_engine import read_display
from fobsim.models.fob import Fob
from fobsim.ptyport import close_quietly, open_raw
from mpvm import UNIX_MICROPYTHON, UNIX_RUNNER, make_image, run_on_image

FOB = str(Path(sys.executable).with_name("fob"))
BIG_HEAP = 4 * 1024 * 1024
# The documented minimum fixed heap on the unix port (64-bit) per board, docs/firmware-heap.md: the
# bisected figure of `make bench` with margin: it wanders by several KiB from run to run (fragmentation).
MINIMUM = {
    ("rp2-pico-ssd1306", "sealed fob in use"): 208 * 1024,
    ("rp2-pico-ssd1306", "provisioning session"): 208 * 1024,
    ("esp32c3-ssd1306", "sealed fob in use"): 224 * 1024,
    ("esp32c3-ssd1306", "provisioning session"): 208 * 1024,
}
ESTIMATE_32_BIT = 1.40  # how much less a 32-bit board needs: the live-heap ratio make bench measures (docs)


class Outcome:
    """What a run showed: ``ok`` (it did its job), and everything a failure must never show."""

    def __init__(self):
        self.ok = False
        self.prompt = False  # a REPL prompt appeared
        self.wrong_code = False  # a code frame CPython would not draw for the record
        self.corrupt_record = False  # the record on the flash no longer decodes
        self.codes = 0  # correct code frames seen
        self.how = ""  # how it ended, for messages: "served", "reset", "halted", ...

    @property
    def safe(self):
        return not (self.prompt or self.wrong_code or self.corrupt_record)

    def __repr__(self):
        return "<Outcome ok=%s how=%s codes=%d prompt=%s wrong_code=%s corrupt_record=%s>" % (
            self.ok,
            self.how,
            self.codes,
            self.prompt,
            self.wrong_code,
            self.corrupt_record,
        )


class Session:
    """A fob of ``board`` powered by USB, its firmware inside the unix port on the board models, its
    serial line a pty (``port``: the host's end).  The models run in a thread, paced to real time;
    a reset boots the image again, as on the board."""

    def __init__(self, board, flash, heapsize, clock_set=False):
        self.master, self.port = open_raw()
        self.engine = MicroPythonEngine(board_firmware(board), heapsize, skip_idle=False, serial=self.master)
        self.fob = Fob(board, flash, utc=time.time(), usb=True, engine=self.engine)
        if clock_set:
            self.fob.set_clock(self.fob.world.utc())
        self.error = None
        self.output = b""
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.fob.run_until(None)
        except BaseException as error:  # noqa: BLE001 -- reported as how the run ended
            self.error = error

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.engine.stop()  # no VM starts after it (MicroPythonEngine.stop, under its start lock)
        self._thread.join(timeout=30)
        close_quietly(self.master, self.port)

    def send(self, data):
        os.write(self.port, data)

    def wait_frame(self, timeout):
        """Wait until the panel shows its first frame (or the VM stopped)."""
        deadline = time.monotonic() + timeout
        while not self.fob.screens() and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)

    def read_until(self, marker, timeout):
        """Read the serial line until ``marker`` came (True), ``timeout`` passed or the fob reset."""
        deadline = time.monotonic() + timeout
        while marker not in self.output and time.monotonic() < deadline and self._first_boot():
            if select.select([self.port], [], [], 0.05)[0]:
                self.output += os.read(self.port, 4096)
        return marker in self.output

    def _first_boot(self):
        return len(self.fob.boots) <= 1 and self.error is None and self._thread.is_alive()

    def alive(self):
        """Still on its first boot, running."""
        return len(self.fob.boots) == 1 and self.engine.process.poll() is None and self.error is None

    def how(self):
        if self.error is not None:
            return "stopped: %s" % str(self.error)[:200]
        if len(self.fob.boots) > 1:
            return "reset (%d boots)" % len(self.fob.boots)
        return "served"

    def frames(self):
        """(fob time, frame) of every frame the panel showed."""
        return [(self.fob.world.utc_start + t, frame) for t, frame in self.fob.screens()]


def _record_on(image, work):
    """The seed record's bytes on the image now (read back by the unix port itself), or None."""
    script = "try:\n    print(open('/data/seed.rec','rb').read().hex())\nexcept OSError:\n    print('none')\n"
    out = run_on_image(script, image, BIG_HEAP)
    return None if out.strip() == "none" else bytes.fromhex(out.strip())


def _same_token(before, after):
    """Whether ``after`` still decodes to the token ``before`` held.  A sealed fob rewrites its record once
    per step it shows a code (the latest time it knew, fobcore.token), so the bytes may change; nothing
    else may."""
    if after is None:
        return False
    try:
        old, new = decode(before), decode(after)
    except ValueError:
        return False
    kept = ("seed", "algorithm", "digits", "period", "serial", "expiry", "sealed", "forced")
    return all(getattr(old, name) == getattr(new, name) for name in kept) and new.known >= old.known


def _judge_frames(outcome, frames, record, work, blank_before=False):
    """Count the code frames; any frame that is not what CPython draws for ``record`` is a wrong code.

    ``blank_before``: the fob was blank before ``record`` was written, so a frame may still be the blank
    fob's screen (one a fob that failed after provisioning never redrew): a screen, not a code."""
    flash = work / "mirror"
    (flash / "data").mkdir(parents=True, exist_ok=True)
    (flash / "data" / "seed.rec").write_bytes(record)
    for stamp, frame in frames:
        view = read_display(frame, flash, stamp)
        if view is None and blank_before:
            view = read_display(frame, work / "blank", stamp)
            view = None if view is None or view[0] == "code" else view
        if view is None:
            outcome.wrong_code = True  # not even a screen CPython would draw now
        elif view[0] == "code":
            outcome.codes += 1


def sealed_in_use(board, heapsize, seconds=1.0):
    """A sealed fob boots, shows its code and answers INFO over serial for ``seconds``."""
    outcome = Outcome()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        record = store_record(work / "flash", sealed=True)
        with Session(board, work / "flash", heapsize, clock_set=True) as session:
            session.wait_frame(timeout=10)  # booted: a host talks to a fob whose USB is up
            session.send(encode_frame(1, "INFO"))
            answered = session.read_until(b"state=SEALED", timeout=seconds + 10)
            session.read_until(b"\0", timeout=seconds)  # the code shown and redrawn meanwhile
            outcome.ok = answered and session.alive()
            outcome.how = session.how()
        outcome.prompt = b">>>" in session.output
        _judge_frames(outcome, session.frames(), record, work)
        outcome.ok = outcome.ok and outcome.codes > 0
        outcome.corrupt_record = not _same_token(record, _record_on(session.engine.image, work))
    return outcome


def provisioning(board, heapsize):
    """A blank fob provisioned and sealed by the real `fob provision` over a pty."""
    outcome = Outcome()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with Session(board, work / "flash", heapsize) as session:
            done = subprocess.run(
                [FOB, "provision", "--port", os.ttyname(session.port), "--inventory", str(work / "inventory.sqlite3")],
                capture_output=True,
                text=True,
                timeout=120,
            )
            time.sleep(0.5)
            alive = session.alive()
            how = session.how()
        provisioned = done.returncode == 0 and "provisioned and sealed" in done.stdout
        outcome.how = how if provisioned else "refused: " + (done.stdout + done.stderr)[-200:]
        record = _record_on(session.engine.image, work)
        if record is not None:
            try:
                decoded = decode(record)
            except ValueError:
                outcome.corrupt_record = True
            else:
                _judge_frames(outcome, session.frames()[-1:], record, work, blank_before=True)
                outcome.ok = provisioned and alive and decoded.sealed
    return outcome


def bisect(scenario, low=8 * 1024, high=512 * 1024, step=1024, runs=2, good=lambda outcome: outcome.ok):
    """The smallest heap (a multiple of ``step``) at which ``scenario`` succeeds ``runs`` times in a row.

    Returns it and {heap: [outcomes]} of every probe (a failed probe stops at its first failure); an
    outcome succeeds when ``good(outcome)``."""
    probes = {}
    while high - low > step:
        middle = (low + high) // 2 // step * step
        outcomes = probes[middle] = []
        while len(outcomes) < runs and (not outcomes or good(outcomes[-1])):
            outcomes.append(scenario(middle))
        if good(outcomes[-1]):
            high = middle
        else:
            low = middle
    return high, probes


SCENARIOS = {"sealed fob in use": sealed_in_use, "provisioning session": provisioning}  # each (board, heapsize)


MODULES = "asyncio board fobcore.app fobcore.mainloop fobcore.protocol fobcore.record fobcore.render fobcore.token"


def module_heap():
    """Heap bytes the firmware's loaded .mpy modules hold (their bytecode and constants): what freezing moves to flash.

    Measured as the live heap after importing them, less the live heap before.
    Frozen, a module's bytecode stays in flash; its globals dict and function
    objects still take a little RAM, so the saving is somewhat less than this."""
    with tempfile.TemporaryDirectory() as tmp:
        flash_unix_firmware(Path(tmp) / "flash")  # the simulator's board file: importable without a machine
        image = Path(tmp) / "flash.img"
        make_image(image, [(Path(tmp) / "flash", "/")])
        script = "import gc\ngc.collect()\nbefore = gc.mem_alloc()\n"
        script += "".join("import %s\n" % name for name in MODULES.split())
        script += "gc.collect()\nprint(gc.mem_alloc() - before)\n"
        return int(run_on_image(script, image, BIG_HEAP))


def link_heap():
    """Heap bytes tools/mpvm/machinelink.py holds once imported (compiled from source): the VM's cost
    of forwarding ``machine`` to the models, which a board's built-in ``machine`` does not have."""
    script = "import gc\ngc.collect()\nbefore = gc.mem_alloc()\nimport machinelink\ngc.collect()\n"
    script += "print(gc.mem_alloc() - before)\n"
    command = [str(UNIX_MICROPYTHON), "-X", "heapsize=%d" % BIG_HEAP, "-c", script]
    return int(subprocess.run(command, capture_output=True, text=True, check=True, cwd=UNIX_RUNNER.parent).stdout)
