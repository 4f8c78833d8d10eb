"""Hostile and unlucky input to the virtual board: line noise, power loss, escaping paths, bad arguments."""

import os
import random
import signal
import subprocess

import pytest
from fakeboard import FakeBoard
from vmboards import DEVICES, PORT, on_flash

from fobcore.app import App
from fobcore.token import Token
from fobsim.micropython_engine import BOARD_SCRIPT, ROOT, MicroPythonDevice, MicroPythonSimulator, read_display
from oracles import pyotp_totp_at

SEED = bytes(range(20))
NOW = 1_800_000_000


@pytest.mark.parametrize("port", sorted(DEVICES))
def test_line_noise_at_the_repl_leaves_a_working_board(port, tmp_path, open_line):
    with DEVICES[port](tmp_path / "token") as board:
        _line_noise_leaves_a_working_repl(open_line(board.port), PORT[type(board)])


def _line_noise_leaves_a_working_repl(line, port):
    noise = random.Random(6).randbytes(4096).replace(b"\x04", b"")  # Ctrl-D would just soft-reset
    if port == "unix":
        # Ctrl-C there is the supervisor's SIGINT, sent when it saw the port's handler armed; a burst of
        # them races the port disarming it (SIG_DFL ends the process, and the bytes after are lost).  A
        # board takes Ctrl-C out of its input on the thread that reads it, so that race is the harness's.
        noise = noise.replace(b"\x03", b"")
    line.send(noise)
    line.friendly()
    line.send(b"print(6 * 7)\r")
    assert b"42" in line.expect(b">>> ")


def test_a_killed_vm_comes_back_as_after_power_loss(board, run_mpremote):
    done = run_mpremote(board.port, "exec", "with open('kept.txt', 'w') as f:\n    f.write('before')")
    assert done.returncode == 0, done.stderr
    boots = board.boots
    os.kill(board.pid, signal.SIGKILL)
    board.wait_booted(boots, kind="power")
    done = run_mpremote(board.port, "exec", "print(open('kept.txt').read())")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "before"


@pytest.mark.parametrize("port", sorted(DEVICES))
def test_paths_cannot_leave_the_flash(port, tmp_path, run_mpremote):
    with DEVICES[port](tmp_path / "token") as board:
        done = run_mpremote(board.port, "exec", "with open('/../../../escaped.txt', 'w') as f:\n    f.write('x')")
        if PORT[type(board)] == "unix":  # littlefs refuses ".." above its root, as on a board (lib/littlefs/lfs2.c,
            assert "EINVAL" in done.stdout + done.stderr  # lfs2_dir_find: LFS2_ERR_INVAL)
            assert on_flash(board, "escaped.txt") is None
        else:  # the VM board's write-through resolves it inside the flash directory
            assert done.returncode == 0, done.stderr
            assert on_flash(board, "escaped.txt") == b"x"
    assert not (tmp_path / "escaped.txt").exists() and not (ROOT / "escaped.txt").exists()
    assert not os.path.exists("/escaped.txt")  # the unix port's "/" is its flash image, not the host's


def test_bad_arguments_get_a_usage_line():
    done = subprocess.run(["node", str(BOARD_SCRIPT), "--flash"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: board.mjs") and len(done.stderr.splitlines()) == 1


def test_garbage_on_the_bridge_is_ignored(tmp_path, run_mpremote):
    with MicroPythonDevice(tmp_path / "token") as vm:
        vm._process.stdin.write('not json\n{"cmd": "no such command"}\n[1, 2]\n')
        vm._process.stdin.flush()
        done = run_mpremote(vm.port, "exec", "print('still here')")
        assert done.stdout.strip() == "still here"


def _provisioned_flash(tmp_path):
    board = FakeBoard(tmp_path / "flash" / "data", unix_time=NOW)
    Token(board).provision(SEED, "sha1", 6, 60, "12345678", NOW + 86400)
    return tmp_path / "flash"


def test_a_frame_is_read_as_the_view_cpython_draws(tmp_path):
    flash = _provisioned_flash(tmp_path)
    drawn = FakeBoard(flash / "data", unix_time=NOW)
    App(drawn).press()
    view = read_display(drawn.frames[-1], flash, NOW + 0.4)
    assert view[0] == "code" and view[1] == pyotp_totp_at(SEED, NOW) and view[4] == "12345678"


def test_a_frame_cpython_would_not_draw_is_not_read(tmp_path):
    flash = _provisioned_flash(tmp_path)
    drawn = FakeBoard(flash / "data", unix_time=NOW)
    App(drawn).press()
    damaged = bytearray(drawn.frames[-1])
    damaged[100] ^= 0x10  # one pixel off
    assert read_display(bytes(damaged), flash, NOW) is None
    assert read_display(drawn.frames[-1], flash, NOW + 3600) is None  # not the code of that time


def test_blank_forgets_flash_and_clock_only(tmp_path):
    directory = tmp_path / "token"
    (directory / "flash").mkdir(parents=True)
    (directory / "flash" / "main.py").write_text("print('old firmware')\n")
    (directory / "clock.json").write_text("{}")
    (directory / "notes.txt").write_text("mine")
    simulator = MicroPythonSimulator(directory, blank=True)
    try:
        assert not (directory / "flash" / "main.py").exists()
        assert (directory / "clock.json").read_text() != "{}"  # a new clock, set as at the factory
        assert (directory / "notes.txt").read_text() == "mine"
    finally:
        simulator.vm.stop()


def test_a_vm_that_cannot_boot_is_reported_not_restarted_for_ever(tmp_path, monkeypatch):
    monkeypatch.setattr("fobsim.micropython_engine.BOARD_SCRIPT", tmp_path / "missing.mjs")
    vm = MicroPythonDevice(tmp_path / "token")
    try:
        with pytest.raises(RuntimeError, match="exited with status 1 before booting"):
            vm.start()
    finally:
        vm.stop()


def test_a_unix_board_whose_flash_cannot_mount_is_reported_not_restarted_for_ever(tmp_path):
    (tmp_path / "token").mkdir()
    (tmp_path / "token" / "flash.img").write_bytes(b"\xff" * 4096 * 4)  # erased flash: no littlefs on it
    board = DEVICES["unix"](tmp_path / "token")
    try:
        with pytest.raises(RuntimeError, match="exited before it ran a script or its REPL"):
            board.start()
        assert board.boots == 1
    finally:
        board.stop()


def test_the_flash_holding_the_seed_is_private(tmp_path):
    (tmp_path / "token" / "flash").mkdir(parents=True, mode=0o755)
    vm = MicroPythonDevice(tmp_path / "token")
    vm.stop()
    assert (tmp_path / "token" / "flash").stat().st_mode & 0o077 == 0


def test_an_errno_split_across_two_writes_is_still_reported_as_a_board_reports_it(board, run_mpremote, open_line):
    # Under CPU load the VM's output can leave in two writes between "OSError: 44" and its line end (the
    # 5 ms poll flushes mid-line); mpremote then saw WASI's 44, not ENOENT, and `fob flash` failed.  The
    # sleep stands in for that stall: time.sleep_ms polls the line, which flushes what was printed.
    script = "import time\nprint('OSError: 44', end='')\ntime.sleep_ms(30)\nprint()\n"
    done = run_mpremote(board.port, "exec", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "OSError: [Errno 2] ENOENT"
