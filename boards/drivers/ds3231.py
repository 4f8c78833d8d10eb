"""Maxim DS3231 real-time clock over I2C, in Unix seconds (UTC).

The DS3231 keeps time on its coin cell while the board is unpowered
(±2 ppm, about a minute a year).  Its oscillator-stop flag says when it
did not: then ``time()`` is None and the fob shows CLOCK, never a code.
"""

ADDRESS = 0x68
_SECONDS = 0x00  # seconds, minutes, hours, weekday, date, month, year: BCD
_CONTROL = 0x0E
_STATUS = 0x0F
_AGING = 0x10  # aging offset: signed, about 0.1 ppm per step at 25 degrees C; positive slows the clock
_OSF = 0x80  # oscillator stopped: the time cannot be trusted
_CONV = 0x20  # control: convert the temperature now, which also applies a new aging offset


def _bcd(value):
    """The value of a BCD byte, or -1 if a nibble is not a decimal digit."""
    if value >> 4 > 9 or value & 0x0F > 9:
        return -1
    return (value >> 4) * 10 + (value & 0x0F)


def _to_bcd(value):
    return ((value // 10) << 4) | (value % 10)


def days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days):
    """(year, month, day) of a count of days since 1970-01-01."""
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


class DS3231:
    """The chip at ``address`` on ``i2c`` (a machine.I2C)."""

    def __init__(self, i2c, address=ADDRESS):
        self.i2c = i2c
        self.address = address

    def present(self):
        return self.address in self.i2c.scan()

    def time(self):
        """Unix seconds, or None if the oscillator stopped since the clock was last set or the registers
        do not hold a valid time (a glitched read must never become a plausible wrong time)."""
        if self.i2c.readfrom_mem(self.address, _STATUS, 1)[0] & _OSF:
            return None
        r = self.i2c.readfrom_mem(self.address, _SECONDS, 7)
        if r[2] & 0x40:  # 12-hour mode: 1-12 and a PM bit
            hours = _bcd(r[2] & 0x1F)
            hours = hours % 12 + 12 * bool(r[2] & 0x20) if 1 <= hours <= 12 else -1
        else:
            hours = _bcd(r[2] & 0x3F)
        seconds, minutes, day, month = _bcd(r[0] & 0x7F), _bcd(r[1] & 0x7F), _bcd(r[4] & 0x3F), _bcd(r[5] & 0x1F)
        year = 2000 + _bcd(r[6]) + (100 if r[5] & 0x80 else 0)
        if not (0 <= seconds < 60 and 0 <= minutes < 60 and 0 <= hours < 24 and year >= 2000 and 1 <= month <= 12):
            return None
        days = days_from_civil(year, month, day)
        if civil_from_days(days) != (year, month, day):  # day 0, 31 April, 30 February...
            return None
        return days * 86400 + hours * 3600 + minutes * 60 + seconds

    def set_time(self, unix_seconds):
        """Set the clock (24-hour mode, years 2000-2199) and clear the oscillator-stop flag."""
        days, seconds = divmod(unix_seconds, 86400)
        year, month, day = civil_from_days(days)
        century = 0x80 if year >= 2100 else 0
        data = bytes(
            (
                _to_bcd(seconds % 60),
                _to_bcd(seconds // 60 % 60),
                _to_bcd(seconds // 3600),
                (days + 3) % 7 + 1,  # 1 = Monday
                _to_bcd(day),
                _to_bcd(month) | century,
                _to_bcd(year % 100),
            )
        )
        self.i2c.writeto_mem(self.address, _SECONDS, data)
        self.i2c.writeto_mem(self.address, _CONTROL, b"\x1c")  # oscillator on battery, no square wave
        status = self.i2c.readfrom_mem(self.address, _STATUS, 1)[0]
        self.i2c.writeto_mem(self.address, _STATUS, bytes((status & ~_OSF & 0xFF,)))

    def aging(self):
        """The aging offset register as a signed number (-128..127)."""
        value = self.i2c.readfrom_mem(self.address, _AGING, 1)[0]
        return value - 256 if value > 127 else value

    def set_aging(self, value):
        """Write the aging offset and apply it now (the datasheet: it takes effect at the next temperature
        conversion, which setting CONV starts)."""
        self.i2c.writeto_mem(self.address, _AGING, bytes((value & 0xFF,)))
        control = self.i2c.readfrom_mem(self.address, _CONTROL, 1)[0]
        self.i2c.writeto_mem(self.address, _CONTROL, bytes((control | _CONV,)))
