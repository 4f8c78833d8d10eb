"""Run code inside the official MicroPython WebAssembly port (via Node).

The reusable harness for everything that must hold on a real MicroPython:
files are copied into the VM's filesystem as onto a board, a script runs,
its standard output comes back.
"""

import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tools" / "mpvm" / "run.mjs"
FIRMWARE = ROOT / "firmware"
# Where the firmware lives in the VM, as `fob flash` lays it out on a board.
FOBCORE = (FIRMWARE / "fobcore", "/lib/fobcore")
# A board for scripts in the VM (tests/firmware/vm/vmboard.py), importable there as ``vmboard``.
VMBOARD = (ROOT / "tests" / "firmware" / "vm", "/lib")


class MicroPythonError(AssertionError):
    """The script raised inside the VM; the message carries its traceback."""


def run(script, copies=(FOBCORE,), heapsize=1024 * 1024, timeout=300):
    """Run ``script`` (source text) in a fresh VM; return its standard output."""
    with tempfile.NamedTemporaryFile("w", suffix=".py") as script_file:
        script_file.write(script)
        script_file.flush()
        command = ["node", str(RUNNER), "--heapsize", str(heapsize)]
        for host, vm in copies:
            command += ["--copy", "%s:%s" % (host, vm)]
        command.append(script_file.name)
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        raise MicroPythonError("MicroPython VM failed (exit %d):\n%s" % (done.returncode, done.stderr))
    return done.stdout
