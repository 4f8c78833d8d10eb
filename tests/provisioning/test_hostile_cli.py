"""Every `fob` command given hostile arguments and damaged files: one clear line, a clean exit, never a traceback."""

import os
import sqlite3
import subprocess
import traceback

import pytest

from fobhost.cli import main
from fobhost.inventory import Inventory
from simproc import FOB


@pytest.fixture
def damaged(tmp_path):
    """Inventories broken in the ways a disk, an old version or a hand edit breaks them."""

    def make(name, *sql):
        path = tmp_path / name
        with Inventory(path) as inventory:
            inventory.record("1000000016", bytes(20), "sha1", 6, 60, 1_900_000_000, "fake", "0.1.0")
        db = sqlite3.connect(path)
        for statement in sql:
            db.execute(statement)
        db.commit()
        db.close()
        return str(path)

    return {
        "used-up": make(
            "used-up",
            "INSERT INTO settings VALUES ('serial_prefix', '999999')",
            "INSERT INTO serial_counters VALUES ('999999', 1000)",
        ),
        "wrong-type": make("wrong-type", "UPDATE tokens SET digits = 'six', expiry = x'00'"),
        "no-columns": make(
            "no-columns",
            "ALTER TABLE tokens RENAME TO old",
            "CREATE TABLE tokens (serial TEXT PRIMARY KEY)",
            "INSERT INTO tokens SELECT serial FROM old",
        ),
        "bad-prefix": make("bad-prefix", "INSERT INTO settings VALUES ('serial_prefix', 'abc')"),
    }


def run_in_process(argv, capsys):
    """(exit status, stderr) of `fob argv`; a traceback fails the test, naming the command."""
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse's own one-line usage errors
        status = exit.code
    except BaseException:
        pytest.fail("fob %s raised:\n%s" % (" ".join(argv), traceback.format_exc()))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err, argv
    return status, captured.err


def test_damaged_inventories_are_one_line_errors(damaged, tmp_path, capsys):
    for kind, path in damaged.items():
        for argv in (
            ["inventory", "--inventory", path],
            ["export", "--inventory", path, "--plaintext", "-o", str(tmp_path / ("%s.pskc" % kind))],
        ):
            status, err = run_in_process(argv, capsys)
            if kind == "used-up" or (kind == "bad-prefix" and argv[0] == "export"):  # the seeds are still fine
                assert status == 0, (argv, err)
            else:
                assert status == 2 and err.count("\n") == 1 and path in err, (argv, err)


def test_a_used_up_prefix_is_said_by_inventory_and_provision(damaged, fob, capsys):
    assert main(["inventory", "--inventory", damaged["used-up"]]) == 0
    assert "no numbers left under prefix 999999" in capsys.readouterr().out
    status, err = run_in_process(["provision", "--port", fob.port, "--inventory", damaged["used-up"]], capsys)
    assert status == 2 and "serial prefix 999999 has no numbers left" in err and "--serial-prefix" in err
    assert fob.token.state == "BLANK"


HOSTILE = [
    ["export", "-o", "", "--plaintext"],
    ["export", "-o", "/proc/nonexistent/x", "--plaintext"],
    ["export", "--inventory", "", "-o", "x", "--plaintext"],
    ["export", "--inventory", "/dev/null", "-o", "x", "--plaintext"],
    ["export", "--inventory", "/", "-o", "x", "--plaintext"],
    ["inventory", "--inventory", "/proc/nonexistent/inv"],
    ["inventory", "--inventory", "/dev/null", "--set-prefix", "12"],
    ["inventory", "--inventory", "INV", "--set-prefix", "x" * 10_000],
    ["label", "1000000016", "-o", ""],
    ["label", "1000000016", "-o", "/"],
    ["label", "\x00", "-o", "x.svg"],
    ["code", ""],
    ["code", "\udcff"],
    ["code", "A" * 100_000],
    ["code", "JBSWY3DPEHPK3PXP", "--period", "0"],
    ["code", "JBSWY3DPEHPK3PXP", "--time", "-99999999999999999999"],
    ["info", "--port", ""],
    ["info", "--port", "/dev/null", "--timeout", "0.2"],
    ["info", "--port", "/proc/nonexistent", "--timeout", "nan"],
    ["wipe", "--port", "/dev/null", "--yes", "--timeout", "0.2"],
    ["provision", "--port", "/dev/null", "--serial", "\u0661" * 10, "--inventory", "INV"],
    ["provision", "--port", "/dev/null", "--count", "-1", "--inventory", "INV"],
    ["flash", "--board", "../../etc", "--port", "/dev/null"],
    ["flash", "--board", "", "--port", "/dev/null"],
]


@pytest.mark.parametrize("argv", HOSTILE, ids=lambda argv: " ".join(argv)[:40])
def test_hostile_arguments_are_one_line_errors(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    status, err = run_in_process(argv, capsys)
    assert status in (0, 2), (argv, err)
    if status == 2:
        assert err.strip(), argv


def _fob(*argv, env=None, timeout=60):
    return subprocess.run(
        [FOB, *argv], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


@pytest.mark.parametrize("where", ["file", "/dev/null", "/proc/x", "/", "not-a-token"])
def test_sim_dir_must_be_a_token_directory(tmp_path, where):
    target = {"file": tmp_path / "file", "not-a-token": tmp_path}.get(where, where)
    (tmp_path / "file").write_text("mine")
    before = sorted(os.listdir(tmp_path)), sorted(os.listdir("/"))
    done = _fob("sim", "--headless", "--dir", str(target), timeout=30)
    assert done.returncode == 2 and done.stderr.startswith("fob sim: error: --dir"), done.stderr
    assert "Traceback" not in done.stderr and (sorted(os.listdir(tmp_path)), sorted(os.listdir("/"))) == before


def test_output_into_a_closed_pipe_is_quiet(tmp_path):
    Inventory(tmp_path / "inv").close()
    done = subprocess.run(
        "%s inventory --inventory %s | head -c0; exit ${PIPESTATUS[0]}" % (FOB, tmp_path / "inv"),
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stderr == "" and done.returncode == 141  # 128 + SIGPIPE, as for any command cut off by a pipe


@pytest.mark.parametrize(
    "display, said",
    [(":97", "cannot open the display :97"), (None, "no display ($DISPLAY is not set)")],
    ids=["stale", "none"],
)
def test_a_display_that_cannot_be_opened_falls_back_to_headless(tmp_path, display, said):
    """A stale `ssh -X` (DISPLAY names a server that is not there), or no DISPLAY at all: said, as
    docs/simulator.md promises, then headless."""
    environment = {key: value for key, value in os.environ.items() if key != "DISPLAY"}
    process = subprocess.Popen(
        [FOB, "sim", "--json-events", "--dir", str(tmp_path / "fob")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment if display is None else {**environment, "DISPLAY": display},
    )
    try:
        ready = process.stdout.readline()
        assert '"event": "ready"' in ready
        process.terminate()
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert said in err and "running headless" in err and "Traceback" not in err


def test_a_build_without_a_board_is_refused(tmp_path):
    """--build names a board model's variant: without --board it would silently run the plain simulator."""
    done = _fob("sim", "--build", "latch", "--headless", "--dir", str(tmp_path / "fob"), timeout=30)
    assert done.returncode == 2 and done.stderr == "fob sim: error: --build needs --board\n", done.stderr
    assert not (tmp_path / "fob").exists()


def test_micropython_engine_without_its_npm_package_says_how_to_get_it(tmp_path):
    """As for a pip-installed fobkit: no node_modules anywhere the engine looks."""
    done = _fob(
        "sim",
        "--engine",
        "micropython",
        "--json-events",
        "--headless",
        "--dir",
        str(tmp_path / "fob"),
        env={"FOBKIT_NODE_MODULES": str(tmp_path / "nowhere"), "XDG_CACHE_HOME": str(tmp_path / "cache")},
        timeout=30,
    )
    assert done.returncode == 2 and done.stdout == "", done.stdout  # no "ready" before the error
    assert done.stderr.count("\n") == 1 and "npm install" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("column", ["expiry", "provisioned_at"])
def test_an_inventory_date_no_calendar_can_show_is_listed_not_raised(inventory_path, column, capsys):
    """A hand-edited date past what the host's gmtime can show (year 2**31 and more) is said to be so."""
    with Inventory(inventory_path) as inventory:
        inventory.record("1000000016", bytes(20), "sha1", 6, 60, 1_900_000_000, "fake", "0.1.0")
    db = sqlite3.connect(inventory_path)
    db.execute("UPDATE tokens SET %s = ?" % column, (2**62,))
    db.commit()
    db.close()
    assert main(["inventory", "--inventory", str(inventory_path)]) == 0
    assert "%d (not a valid time)" % 2**62 in capsys.readouterr().out
