"""The virtual board speaks what a MicroPython board speaks over USB: REPLs, Ctrl-C, soft reset, flash.

Each test runs on both MicroPython ports, through one interface: the WebAssembly VM board
(fobsim.micropython_engine.MicroPythonDevice) and the unix port's (tests/unixdevice.py)."""

import subprocess
import sys
from pathlib import Path

import pytest
from vmboards import DEVICES, PORT, on_flash

from mpvm import ROOT


@pytest.fixture(params=sorted(DEVICES))
def board(request, tmp_path):
    """A blank board on each MicroPython port, powered on."""
    with DEVICES[request.param](tmp_path / "token") as vm:
        yield vm


def test_mpremote_exec_runs_in_micropython(board, run_mpremote, open_line):
    done = run_mpremote(board.port, "exec", "import sys; print(sys.implementation.name)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "micropython"


def test_a_copied_file_survives_a_soft_reset_and_a_power_cycle(board, tmp_path, run_mpremote, open_line):
    source = tmp_path / "note.txt"
    source.write_text("kept on flash\n")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 3)
    done = run_mpremote(board.port, "fs", "cp", str(binary), ":blob.bin")
    assert done.returncode == 0, done.stderr
    done = run_mpremote(
        board.port, "fs", "cp", str(source), ":note.txt", "+", "soft-reset", "+", "fs", "cat", ":note.txt"
    )
    assert done.returncode == 0, done.stderr
    assert "kept on flash" in done.stdout
    assert board.boots >= 2  # the soft reset restarted the VM
    assert on_flash(board, "note.txt") == source.read_bytes()  # written through
    board.stop()
    with type(board)(board.directory) as again:
        copied = tmp_path / "back.bin"
        done = run_mpremote(again.port, "fs", "cp", ":blob.bin", str(copied))
        assert done.returncode == 0, done.stderr
        assert copied.read_bytes() == binary.read_bytes()


def test_removing_and_renaming_reach_the_flash(board, run_mpremote, open_line):
    script = (
        "with open('a.txt','w') as f:\n    f.write('1')\n"
        "import os\nos.mkdir('d')\nos.rename('a.txt','d/b.txt')\nprint(os.listdir('d'))"
    )
    done = run_mpremote(board.port, "exec", script)
    assert done.returncode == 0, done.stderr
    assert on_flash(board, "d/b.txt") == b"1" and on_flash(board, "a.txt") is None
    done = run_mpremote(board.port, "exec", "import os\nos.remove('d/b.txt')\nos.rmdir('d')")
    assert done.returncode == 0, done.stderr
    assert on_flash(board, "d") is None


def test_a_missing_file_is_reported_as_a_board_reports_it(board, run_mpremote, open_line):
    done = run_mpremote(board.port, "fs", "cat", ":nothing-here.txt")
    assert done.returncode != 0
    assert "No such file" in done.stderr or "ENOENT" in done.stderr


def test_ctrl_c_interrupts_a_running_loop_and_the_repl_goes_on(board, run_mpremote, open_line):
    line = open_line(board.port)
    line.send(b"\r\x03\x01")
    line.expect(b"raw REPL; CTRL-B to exit\r\n>")
    line.send(b"import time\nn = 0\nwhile True:\n    n += 1\n    time.sleep_ms(5)\n\x04")
    line.expect(b"OK")
    line.send(b"\x03")
    assert b"KeyboardInterrupt" in line.expect(b"\x04>")
    line.send(b"print('after', n > 0)\x04")
    assert b"after True" in line.expect(b"\x04>")


def test_ctrl_c_interrupts_a_printing_loop(board, run_mpremote, open_line):
    line = open_line(board.port)
    line.send(b"\r\x03\x01")
    line.expect(b"raw REPL; CTRL-B to exit\r\n>")
    line.send(b"while True:\n    print('spam')\n\x04")
    line.expect(b"spam")
    line.send(b"\x03")
    assert b"KeyboardInterrupt" in line.expect(b"\x04>", timeout=30)


def test_raw_paste_is_answered_as_the_port_does(board, run_mpremote, open_line):
    line = open_line(board.port)
    line.send(b"\r\x03\x01")
    line.expect(b"raw REPL; CTRL-B to exit\r\n>")
    line.send(b"\x05A\x01")
    if PORT[type(board)] == "unix":  # the unix port has raw-paste (shared/runtime/pyexec.c, pyexec_raw_repl)
        assert line.expect(b"R\x01") == b"R\x01"
        return
    assert line.expect(b"R\x00") == b"R\x00"  # refused: raw-paste needs blocking reads (board.mjs)
    line.send(b"print(6 * 7)\x04")
    assert b"42" in line.expect(b"\x04>")


def test_the_friendly_repl_echoes_and_evaluates(board, run_mpremote, open_line):
    line = open_line(board.port)
    line.friendly()
    line.send(b"6 * 7\r")
    assert b"42" in line.expect(b">>> ")


def test_soft_reset_runs_boot_py_then_main_py(board, tmp_path, run_mpremote, open_line):
    (tmp_path / "boot.py").write_text("print('boot ran')\n")
    (tmp_path / "main.py").write_text("print('main ran')\n")
    done = run_mpremote(
        board.port,
        "fs",
        "cp",
        str(tmp_path / "boot.py"),
        ":boot.py",
        "+",
        "fs",
        "cp",
        str(tmp_path / "main.py"),
        ":main.py",
    )
    assert done.returncode == 0, done.stderr
    line = open_line(board.port)
    line.friendly()
    line.send(b"\x04")
    out = line.expect(b">>> ")
    assert b"soft reboot" in out
    assert out.index(b"boot ran") < out.index(b"main ran") < out.index(b'Type "help()"')


def test_ctrl_c_stops_an_asyncio_main_py(board, tmp_path, run_mpremote, open_line):
    (tmp_path / "main.py").write_text(
        "import asyncio\n"
        "async def forever():\n"
        "    while True:\n"
        "        await asyncio.sleep_ms(20)\n"
        "try:\n"
        "    print('app started')\n"
        "    asyncio.run(forever())\n"
        "finally:\n"
        "    print('app cleaned up')\n"
    )
    done = run_mpremote(board.port, "fs", "cp", str(tmp_path / "main.py"), ":main.py")
    assert done.returncode == 0, done.stderr
    line = open_line(board.port)
    line.friendly()
    line.send(b"\x04")
    line.expect(b"app started")
    line.send(b"\x03")
    out = line.expect(b">>> ")
    assert b"KeyboardInterrupt" in out and b"app cleaned up" in out


def test_fob_flash_installs_and_verifies_the_firmware_on_the_unix_port(tmp_path, run_mpremote):
    # On the WebAssembly board test_end_to_end flashes and runs the firmware; on the unix port the flashed
    # sim board cannot start (its hardware is board.mjs's simhost bridge), but the flash is the same.
    fob = Path(sys.executable).with_name("fob")
    with DEVICES["unix"](tmp_path / "token") as board:
        boots = board.boots
        done = subprocess.run([fob, "flash", "--board", "sim", "--port", board.port], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "compare the SHA-256" in done.stdout and "flashed sim" in done.stdout
        assert board.boots > boots  # reset to start the new firmware
        assert on_flash(board, "main.py") == (ROOT / "firmware" / "main.py").read_bytes()
