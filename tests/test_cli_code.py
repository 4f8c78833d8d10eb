"""`fob code`: the acceptance examples and every refusal."""

import subprocess
import sys
from pathlib import Path

import pytest

from fobhost.cli import main

FOB = Path(sys.executable).with_name("fob")


def test_rfc_example_through_the_installed_command():
    done = subprocess.run(
        [FOB, "code", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "--time", "59", "--period", "30", "--digits", "8"],
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout) == (0, "94287082\n")


def test_hex_secret_is_refused_as_not_base32():
    done = subprocess.run(
        [FOB, "code", "3132333435363738393031323334353637383930", "--time", "59", "--period", "30", "--digits", "8"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "not base32" in done.stderr
    assert "3132" not in done.stderr


def test_verbose_prints_step_and_seconds_left(capsys):
    assert main(["code", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "--time", "1111111109", "-v"]) == 0
    assert capsys.readouterr().out == "081804\ntime step 18518518, 31 s left\n".replace("081804", _code())


def _code():
    from fobcore import otp

    return otp.totp(b"12345678901234567890", 1111111109)


def test_sha256_and_default_period(capsys):
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
    assert main(["code", secret, "--time", "59", "--digits", "8", "--algorithm", "sha256", "--period", "30"]) == 0
    assert capsys.readouterr().out == "46119246\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["GEZDGNBV", "--digits", "5"], "digits must be 6 to 10"),
        (["GEZDGNBV", "--digits", "11"], "digits must be 6 to 10"),
        (["GEZDGNBV", "--algorithm", "md5"], "unknown algorithm 'md5'"),
        (["GEZDGNBV", "--period", "0"], "period must be a positive"),
        (["GEZDGNBV", "--time", "-5"], "before T0"),
        (["", "--time", "5"], "secret is empty"),
        (["GEZDGNB!"], "not base32"),
    ],
)
def test_refusals_are_one_line_with_status_2(capsys, args, message):
    assert main(["code", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1


def test_argparse_refusals_also_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["code", "GEZDGNBV", "--time", "yesterday"])
    assert exited.value.code == 2
