"""The virtual board speaks what a MicroPython board speaks over USB: REPLs, Ctrl-C, soft reset, flash."""

from fobsim.micropython_engine import MicroPythonDevice


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
    assert (board.directory / "flash" / "note.txt").read_bytes() == source.read_bytes()  # written through
    board.stop()
    with MicroPythonDevice(board.directory) as again:
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
    flash = board.directory / "flash"
    assert (flash / "d" / "b.txt").read_text() == "1" and not (flash / "a.txt").exists()
    done = run_mpremote(board.port, "exec", "import os\nos.remove('d/b.txt')\nos.rmdir('d')")
    assert done.returncode == 0, done.stderr
    assert not (flash / "d").exists()


def test_a_missing_file_is_reported_as_a_board_reports_it(board, run_mpremote, open_line):
    done = run_mpremote(board.port, "fs", "cat", ":nothing-here.txt")
    assert done.returncode != 0
    assert "No such file" in done.stderr or "ENOENT" in done.stderr


def test_an_errno_split_across_two_writes_is_still_reported_as_a_board_reports_it(board, run_mpremote, open_line):
    # Under CPU load the VM's output can leave in two writes between "OSError: 44" and its line end (the
    # 5 ms poll flushes mid-line); mpremote then saw WASI's 44, not ENOENT, and `fob flash` failed.  The
    # sleep stands in for that stall: time.sleep_ms polls the line, which flushes what was printed.
    script = "import time\nprint('OSError: 44', end='')\ntime.sleep_ms(30)\nprint()\n"
    done = run_mpremote(board.port, "exec", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "OSError: [Errno 2] ENOENT"


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


def test_raw_paste_is_refused_and_the_raw_repl_still_runs_code(board, run_mpremote, open_line):
    line = open_line(board.port)
    line.send(b"\r\x03\x01")
    line.expect(b"raw REPL; CTRL-B to exit\r\n>")
    line.send(b"\x05A\x01")
    assert line.expect(b"R\x00") == b"R\x00"
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
    assert out.index(b"boot ran") < out.index(b"main ran") < out.index(b"MicroPython v1.27")


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
