"""The DS3231 driver against a register-level model of the chip, and its calendar against datetime."""

import datetime
import importlib.util
import json
from pathlib import Path

import pytest

from mpvm import run

DRIVER = Path(__file__).resolve().parents[2] / "boards" / "drivers" / "ds3231.py"
_spec = importlib.util.spec_from_file_location("ds3231", DRIVER)
ds3231 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ds3231)


class DS3231Registers:
    """The chip as the I2C bus sees it: 19 registers at 0x68, OSF set at power-up (datasheet, status register)."""

    def __init__(self):
        self.registers = bytearray(19)
        self.registers[0x0F] = 0x80

    def scan(self):
        return [0x3C, 0x68]

    def readfrom_mem(self, address, register, count):
        assert address == 0x68
        return bytes(self.registers[register : register + count])

    def writeto_mem(self, address, register, data):
        assert address == 0x68
        self.registers[register : register + len(data)] = data


@pytest.mark.parametrize(
    "moment",
    ["2026-01-01T00:00:00", "2028-02-29T23:59:59", "2031-12-31T12:34:56", "2099-12-31T23:59:59", "2100-03-01T00:00:00"],
)
def test_set_and_read_back_through_the_registers(moment):
    unix = int(datetime.datetime.fromisoformat(moment).replace(tzinfo=datetime.UTC).timestamp())
    chip = DS3231Registers()
    rtc = ds3231.DS3231(chip)
    assert rtc.present() and rtc.time() is None  # a fresh chip's oscillator-stop flag
    rtc.set_time(unix)
    assert rtc.time() == unix
    dt = datetime.datetime.fromtimestamp(unix, datetime.UTC)
    assert chip.registers[0] == int(str(dt.second), 16)  # BCD
    assert chip.registers[3] == dt.isoweekday()
    chip.registers[0x0F] |= 0x80  # the coin cell died
    assert rtc.time() is None


def test_twelve_hour_mode_is_read_correctly():
    chip = DS3231Registers()
    rtc = ds3231.DS3231(chip)
    rtc.set_time(1_800_000_000)  # 2027-01-15T08:00:00Z
    chip.registers[2] = 0x40 | 0x20 | 0x08  # 8 PM in 12-hour mode
    assert rtc.time() == 1_800_000_000 + 12 * 3600


def test_calendar_matches_datetime_over_three_centuries():
    epoch = datetime.date(1970, 1, 1)
    for days in range(-365, 130 * 366, 3):
        date = epoch + datetime.timedelta(days=days)
        assert ds3231.civil_from_days(days) == (date.year, date.month, date.day)
        assert ds3231.days_from_civil(date.year, date.month, date.day) == days


def test_calendar_inside_micropython(vm_cases, micropython_port):
    days = list(range(20000, 47500, 97))  # 2024 to 2100
    script = "import json, ds3231\nprint(json.dumps([ds3231.civil_from_days(d) for d in %s]))" % days
    got = json.loads(run(script, copies=((str(DRIVER.parent), "/lib"),), port=micropython_port))
    epoch = datetime.date(1970, 1, 1)
    expected = [list((epoch + datetime.timedelta(days=d)).timetuple()[:3]) for d in days]
    assert got == expected
    vm_cases.append(("DS3231 driver calendar", len(days)))


@pytest.mark.parametrize(
    "register, value",
    [(0, 0x60), (0, 0x5A), (1, 0x7F), (2, 0x24), (2, 0x3A), (4, 0x00), (4, 0x32), (5, 0x00), (5, 0x13), (6, 0xA0)],
)
def test_a_register_that_is_not_a_valid_time_reads_as_no_time(register, value):
    """A glitched read (noise on the bus, a half-written register) must give CLOCK, never a wrong but plausible time."""
    chip = DS3231Registers()
    rtc = ds3231.DS3231(chip)
    rtc.set_time(1_800_000_000)
    chip.registers[register] = value
    assert rtc.time() is None


def test_a_bus_reading_all_ones_reads_as_no_time():
    chip = DS3231Registers()
    rtc = ds3231.DS3231(chip)
    rtc.set_time(1_800_000_000)
    chip.registers[0:7] = b"\xff" * 7
    chip.registers[0x0F] = 0x00
    assert rtc.time() is None
