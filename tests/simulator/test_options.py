"""`fob sim` option errors: one line, exit status 2, nothing created or erased."""

import pytest

from fobhost.cli import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--speed", "0"], "--speed must be"),
        (["--speed", "nan"], "--speed must be"),
        (["--speed", "inf"], "--speed must be"),
        (["--offset", "nan"], "--offset must be"),
        (["--offset", "inf"], "--offset must be"),
        (["--offset", "1e12"], "--offset must be"),
        (["--drift-ppm", "nan"], "--drift-ppm must be"),
        (["--drift-ppm", "-1000000"], "--drift-ppm must be"),
        (["--drift-ppm=-2e6"], "--drift-ppm must be"),
        (["--drift-ppm", "1e9"], "--drift-ppm must be"),
        (["--display-timeout", "nan"], "--display-timeout must be"),
        (["--display-timeout", "inf"], "--display-timeout must be"),
        (["--display-timeout", "0"], "--display-timeout must be"),
        (["--scale", "0"], "--scale must be"),
        (["--name", "../x"], "--name must be a plain name"),
        (["--name", ".."], "--name must be a plain name"),
        (["--screenshot", "/nonexistent/shot.png"], "--screenshot: /nonexistent/shot.png: no directory /nonexistent"),
    ],
)
def test_bad_options_are_one_line_errors_that_touch_nothing(tmp_path, capsys, argv, message):
    token = tmp_path / "fob"
    token.mkdir()
    (token / "keep").write_text("kept")
    assert main(["sim", "--headless", "--blank", "--dir", str(token), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fob sim: error: ") and message in err and err.count("\n") == 1
    assert sorted(p.name for p in token.iterdir()) == ["keep"]


def test_demo_on_a_clock_the_fob_does_not_believe_is_a_one_line_error(tmp_path, capsys):
    argv = ["sim", "--headless", "--blank", "--dir", str(tmp_path / "fob"), "--demo", "--offset", "-1000000000"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("fob sim: error: --demo: ") and "--offset" in err and err.count("\n") == 1
