"""The wheel, installed into a fresh virtual environment, works outside the checkout: fob flash and fob sim.

The environment gets the wheel by pip and its dependencies from this
checkout's .venv (a .pth line: no download), so the test runs offline.
"""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from fobsim import vmscript

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip"]
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = (tmp / "dist").glob("fobkit-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True
    ).stdout.strip()
    (Path(site) / "checkout-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # no .pth run from it
    done = subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    away = tmp / "elsewhere"
    away.mkdir()
    return venv, away


def run(installed, *argv, env=None, timeout=120):
    venv, away = installed
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", vmscript.ENV)}
    return subprocess.run(
        [venv / "bin" / "fob", *argv],
        cwd=away,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean, "XDG_DATA_HOME": str(away / "data"), "XDG_CACHE_HOME": str(away / "cache"), **(env or {})},
    )


def start(installed, *argv, env=()):
    """The installed ``fob`` started with ``argv`` in the directory outside the checkout, output piped."""
    venv, away = installed
    environment = {**os.environ, **{name: str(value) for name, value in dict(env).items()}}
    argv = [venv / "bin" / "fob", *map(str, argv)]
    return subprocess.Popen(argv, cwd=away, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)


def test_the_installed_fob_is_the_wheel_not_the_checkout(installed):
    venv, _ = installed
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import fobhost, fobsim; print(fobhost.__file__, fobsim.__file__)"],
        capture_output=True,
        text=True,
    ).stdout
    assert str(ROOT) not in where and str(venv) in where


def test_flash_finds_its_firmware_and_boards_outside_the_checkout(installed):
    assert run(installed, "flash", "--help").returncode == 0
    done = run(installed, "flash", "--board", "rp2-pico-ssd1306", "--port", "/dev/null", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "/lib/fobcore/token.mpy" in done.stdout and "/lib/ds3231.mpy" in done.stdout and "/main.py" in done.stdout
    unknown = run(installed, "flash", "--board", "nope", "--port", "/dev/null")
    assert unknown.returncode == 2 and "known: esp32c3-ssd1306, rp2-pico-ssd1306, sim" in unknown.stderr


def test_sim_runs_headless_outside_the_checkout(installed):
    _, away = installed
    process = start(
        installed, "sim", "--headless", "--json-events", "--dir", away / "fob", env={"XDG_DATA_HOME": away / "data"}
    )
    try:
        ready = json.loads(process.stdout.readline())
        assert ready["event"] == "ready" and ready["engine"] == "cpython"
        process.terminate()
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()


def test_the_micropython_engine_says_how_to_get_node_then_runs_from_the_cache(installed):
    _, away = installed
    argv = ("sim", "--engine", "micropython", "--headless", "--json-events", "--dir", str(away / "vm"))
    done = run(installed, *argv, timeout=60)
    cache = away / "cache" / "fobkit" / "mpvm"
    assert done.returncode == 2 and done.stdout == ""
    assert "npm install --prefix %s %s@%s" % (cache, vmscript.NPM_PACKAGE, vmscript.NPM_VERSION) in done.stderr
    # What that npm install gives, without the network: the checkout's copy of the same package.
    cache.mkdir(parents=True)
    (cache / "node_modules").symlink_to(ROOT / "node_modules")
    venv, _ = installed
    process = start(installed, *argv, env={"XDG_CACHE_HOME": away / "cache"})
    try:
        ready = json.loads(process.stdout.readline())
        assert ready["event"] == "ready" and ready["engine"] == "micropython"
        mpremote = [venv / "bin" / "python", "-m", "mpremote", "connect", ready["port"], "exec", "print(6 * 7)"]
        answer = subprocess.run(mpremote, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert answer.stdout.strip() == "42", answer.stderr  # the VM runs, from the cached board script
        process.terminate()
        process.wait(timeout=30)
    finally:
        process.kill()
    for piece in (ROOT / "tools" / "mpvm").glob("*.mjs"):  # board.mjs and the modules it imports
        assert (cache / piece.name).read_bytes() == piece.read_bytes()


def test_the_npm_version_is_the_one_package_json_pins():
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"][vmscript.NPM_PACKAGE]
    assert pinned == vmscript.NPM_VERSION


def test_the_server_commands_without_the_server_extra_say_how_to_get_it(tmp_path):
    script = (
        "import sys; sys.modules['sqlalchemy'] = None\n"  # as if fobkit were installed without [server]
        "from fobhost.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "admin", "expiring", "--db", "sqlite:///%s" % (tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip() == "fob admin: error: the validation service needs fobkit's server extra: "
        "pip install 'fobkit[server]' (sqlalchemy is missing)"
    )
