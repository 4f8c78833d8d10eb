"""The simulated RTC: skew, drift, speed, and running on while the simulator is closed."""

import pytest

from fobsim.clock import VirtualClock


class HostTime:
    """A host clock the test moves by hand."""

    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_unset_until_set():
    clock = VirtualClock(host_time=HostTime())
    assert not clock.is_set and clock.now() is None
    clock.set(1_000)
    assert clock.is_set and clock.now() == 1_000


def test_offset_is_relative_to_the_host():
    host = HostTime()
    clock = VirtualClock(host_time=host)
    clock.skew(-90)
    assert clock.now() == host.now - 90
    host.now += 10
    assert clock.now() == host.now - 90


def test_drift_accumulates_in_parts_per_million():
    host = HostTime()
    clock = VirtualClock(drift_ppm=50, host_time=host)
    clock.set(host.now)
    host.now += 86_400
    assert clock.now() - host.now == pytest.approx(86_400 * 50e-6)  # 4.32 s a day


def test_speed_multiplies_time():
    host = HostTime()
    clock = VirtualClock(speed=60, host_time=host)
    clock.set(0)
    host.now += 2
    assert clock.now() == 120
    assert clock.host_seconds_until(180) == pytest.approx(1.0)


def test_the_rtc_keeps_running_while_closed(tmp_path):
    host = HostTime()
    path = str(tmp_path / "clock.json")
    clock = VirtualClock(drift_ppm=100, speed=10, host_time=host)
    clock.set(5_000)
    host.now += 1  # ten fast seconds
    clock.save(path)
    host.now += 1_000_000  # closed for a while: real speed, drifting rate
    reopened = VirtualClock.load(path, speed=1, host_time=host)
    assert reopened.drift_ppm == 100
    assert reopened.now() == pytest.approx(5_000 + 10 * 1.0001 + 1_000_000 * 1.0001)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{",
        "[]",
        '{"drift_ppm": "x"}',
        '{"drift_ppm": 1}',
        "\x00\xff",
        '{"drift_ppm": NaN, "anchor_host": 1700000000, "anchor_fob": 1700000000}',
        '{"drift_ppm": -1000000, "anchor_host": 1700000000, "anchor_fob": 1700000000}',
        '{"drift_ppm": 0, "anchor_host": 1700000000, "anchor_fob": Infinity}',
        '{"drift_ppm": 0, "anchor_host": -Infinity, "anchor_fob": 1700000000}',
        '{"drift_ppm": 0, "anchor_host": 1e400, "anchor_fob": 1700000000}',
    ],
)
def test_a_damaged_clock_file_is_a_flat_battery(tmp_path, content):
    path = tmp_path / "clock.json"
    path.write_text(content)
    clock = VirtualClock.load(str(path), host_time=HostTime())
    assert not clock.is_set


@pytest.mark.parametrize("speed", [0, -1, float("nan"), float("inf")])
def test_speed_must_be_positive_and_finite(speed):
    with pytest.raises(ValueError, match="speed"):
        VirtualClock(speed=speed)


@pytest.mark.parametrize("fob_time", [float("nan"), float("inf")])
def test_the_clock_is_never_set_to_a_time_that_is_not_finite(tmp_path, fob_time):
    clock = VirtualClock(host_time=HostTime())
    clock.set(1_000)
    with pytest.raises(ValueError):
        clock.set(fob_time)
    assert clock.now() == 1_000
