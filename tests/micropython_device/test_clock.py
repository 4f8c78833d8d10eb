"""The VM board's battery-backed clock: the token's VirtualClock, read and set from inside MicroPython."""

import time

from fobsim.clock import VirtualClock
from fobsim.micropython_engine import MicroPythonDevice


def _fob_time(port, run_mpremote):
    done = run_mpremote(port, "exec", "import simhost; print(simhost.time())")
    assert done.returncode == 0, done.stderr
    return float(done.stdout)


def test_the_vm_reads_the_skewed_drifting_clock(tmp_path, run_mpremote):
    clock = VirtualClock(drift_ppm=500_000)  # half again as fast: visible within a second
    clock.skew(-3600)
    with MicroPythonDevice(tmp_path / "token", clock=clock) as vm:
        before_first = time.monotonic()
        first = _fob_time(vm.port, run_mpremote)
        after_first = time.monotonic()
        assert abs(first - (time.time() - 3600)) < 5
        time.sleep(1)  # let host time pass, to see the fob's run faster
        before_second = time.monotonic()
        second = _fob_time(vm.port, run_mpremote)
        after_second = time.monotonic()
        # The two readings were taken between these host instants, so at 1.5 fob seconds per host second:
        assert 1.5 * (before_second - after_first) <= second - first <= 1.5 * (after_second - before_first)


def test_a_time_set_in_the_vm_is_kept_with_the_token(tmp_path, run_mpremote):
    with MicroPythonDevice(tmp_path / "token") as vm:
        done = run_mpremote(vm.port, "exec", "import simhost; simhost.set_time(2000000000)")
        assert done.returncode == 0, done.stderr
    kept = VirtualClock.load(str(tmp_path / "token" / "clock.json"))
    assert abs(kept.now() - 2_000_000_000) < 5
    with MicroPythonDevice(tmp_path / "token") as vm:
        assert abs(_fob_time(vm.port, run_mpremote) - 2_000_000_000) < 5
