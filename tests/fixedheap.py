"""The fob at a fixed heap on the unix port: a sealed fob in use and a provisioning session, and their outcome.

Shared by tests/firmware/test_fixed_heap.py (passes at the documented
minimum, fails safely just below it) and `make bench` (benchmarks/fixedheap.py,
which bisects the minimum).  Each run boots the real main.py with the .mpy
files `fob flash` installs, on a littlefs image (tools/mpvm/unixport.py).
"""

import os
import subprocess
import sys
import tempfile
import time
import tty
from pathlib import Path

from flashimage import flash_unix_firmware, store_record

from fobcore.record import decode
from fobcore.wire import encode_frame
from fobsim.micropython_engine import read_display
from mpvm import UnixBoard, make_image, run_on_image, unix_command

FOB = str(Path(sys.executable).with_name("fob"))
BIG_HEAP = 4 * 1024 * 1024
# The documented minimum fixed heap on the unix port (64-bit), docs/firmware.md: the bisected
# figure of `make bench` with margin: it wanders by several KiB from run to run (fragmentation).
MINIMUM = {"sealed fob in use": 104 * 1024, "provisioning session": 104 * 1024}
ESTIMATE_32_BIT = 1.5  # how much less a 32-bit board needs (docs/firmware.md says how this was derived)


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


def _image(work, sealed):
    flash = work / "flash"
    flash_unix_firmware(flash)
    if sealed:
        store_record(flash, sealed=True)
    make_image(work / "flash.img", [(flash, "/")])
    return work / "flash.img"


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
        view = read_display(bytes.fromhex(frame), flash, stamp)
        if view is None and blank_before:
            view = read_display(bytes.fromhex(frame), work / "blank", stamp)
            view = None if view is None or view[0] == "code" else view
        if view is None:
            outcome.wrong_code = True  # not even a screen CPython would draw now
        elif view[0] == "code":
            outcome.codes += 1


def _frames(text):
    """[(fob time, frame hex)] of the "FRAME" lines the board wrote (tests/firmware/unix/board.py)."""
    lines = [line.split() for line in text.splitlines() if line.startswith("FRAME ")]
    return [(int(stamp), frame) for _, stamp, frame in lines]


def sealed_in_use(heapsize, seconds=1.0):
    """A sealed fob boots, shows its code and answers INFO over serial for ``seconds``."""
    outcome = Outcome()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        image = _image(work, sealed=True)
        record = _record_on(image, work)
        board = UnixBoard(image, heapsize).boot()
        try:
            board.send(encode_frame(1, "INFO"))
            answered = board.read_until(b"state=SEALED", timeout=seconds + 5)
            time.sleep(seconds)
            board.read_until(b"\0", timeout=0.2)
            outcome.how = "served" if board.process.poll() is None else "reset (exit %s)" % board.process.poll()
            outcome.prompt = b">>>" in board.output
            _judge_frames(outcome, _frames(board.output.decode("latin1")), record, work)
            outcome.ok = answered and outcome.codes > 0 and board.process.poll() is None
        finally:
            board.power_off()
        outcome.corrupt_record = not _same_token(record, _record_on(image, work))
    return outcome


def provisioning(heapsize):
    """A blank fob provisioned and sealed by the real `fob provision` over a pty."""
    outcome = Outcome()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        image = _image(work, sealed=False)
        master, slave = os.openpty()
        tty.setraw(slave)
        frames = open(work / "frames.txt", "w+")
        fob = subprocess.Popen(
            unix_command(heapsize, "boot", image),
            stdin=master,
            stdout=master,
            stderr=frames,
            cwd=work,
        )
        try:
            done = subprocess.run(
                [FOB, "provision", "--port", os.ttyname(slave), "--inventory", str(work / "inventory.sqlite3")],
                capture_output=True,
                text=True,
                timeout=120,
            )
            outcome.how = "provisioned" if done.returncode == 0 else "refused: " + (done.stdout + done.stderr)[-200:]
            provisioned = done.returncode == 0 and "provisioned and sealed" in done.stdout
            time.sleep(0.5)
            alive = fob.poll() is None
        finally:
            if fob.poll() is None:
                fob.kill()
            fob.wait()
            os.close(master)
            os.close(slave)
        frames.seek(0)
        seen = _frames(frames.read())
        frames.close()
        record = _record_on(image, work)
        if record is not None:
            try:
                decoded = decode(record)
            except ValueError:
                outcome.corrupt_record = True
            else:
                _judge_frames(outcome, seen[-1:], record, work, blank_before=True)
                outcome.ok = provisioned and alive and decoded.sealed
    return outcome


def bisect(scenario, low=8 * 1024, high=512 * 1024, step=1024, runs=2):
    """The smallest fixed heap (a multiple of ``step``) at which ``scenario`` succeeds ``runs`` times in a row.

    Returns it and {heap: [outcomes]} of every probe (a failed probe stops at its first failure)."""
    probes = {}
    while high - low > step:
        middle = (low + high) // 2 // step * step
        outcomes = probes[middle] = []
        while len(outcomes) < runs and (not outcomes or outcomes[-1].ok):
            outcomes.append(scenario(middle))
        if outcomes[-1].ok:
            high = middle
        else:
            low = middle
    return high, probes


SCENARIOS = {"sealed fob in use": sealed_in_use, "provisioning session": provisioning}


MODULES = "asyncio board fobcore.app fobcore.mainloop fobcore.protocol fobcore.record fobcore.render fobcore.token"


def module_heap():
    """Heap bytes the firmware's loaded .mpy modules hold (their bytecode and constants): what freezing moves to flash.

    Measured as the live heap after importing them, less the live heap before.
    Frozen, a module's bytecode stays in flash; its globals dict and function
    objects still take a little RAM, so the saving is somewhat less than this."""
    with tempfile.TemporaryDirectory() as tmp:
        image = _image(Path(tmp), sealed=False)
        script = "import gc\ngc.collect()\nbefore = gc.mem_alloc()\n"
        script += "".join("import %s\n" % name for name in MODULES.split())
        script += "gc.collect()\nprint(gc.mem_alloc() - before)\n"
        return int(run_on_image(script, image, BIG_HEAP))
