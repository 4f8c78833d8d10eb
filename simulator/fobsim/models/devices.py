"""The chips on the fob's I2C bus, modelled at register level: SSD1306 and DS3231.

An ``I2CBus`` carries transactions to the device at an address, as the
port's ``machine.I2C`` does; an address nobody answers is an OSError with
the port's errno (rp2: EIO, ports/rp2/machine_i2c.c machine_i2c_transfer;
esp32: ENODEV, ports/esp32/machine_i2c.c).  Each transfer takes bus time,
9 bit clocks a byte at the bus frequency.
"""

import calendar
import time

# SSD1306 commands with arguments (Solomon Systech SSD1306 datasheet rev 1.1, section 9): how many follow.
_SSD1306_ARGS = {0x81: 1, 0x20: 1, 0x21: 2, 0x22: 2, 0xA8: 1, 0xD3: 1, 0xDA: 1, 0xD5: 1, 0xD9: 1, 0xDB: 1, 0x8D: 1}
_SSD1306_ARGS[0xAD] = 1  # internal IREF selection (SSD1306B), sent by micropython-lib's driver


class I2CBus:
    def __init__(self, world, nack_errno):
        self.world = world
        self.nack_errno = nack_errno
        self.devices = {}
        self.bytes_moved = 0

    def attach(self, device):
        self.devices[device.address] = device

    def _device(self, address):
        device = self.devices.get(address)
        if device is None or not device.answers():
            raise OSError(self.nack_errno)
        return device

    def _clock(self, nbytes, freq):
        self.bytes_moved += nbytes
        self.world.advance((nbytes + 1) * 9 / freq)

    def scan(self):
        return sorted(a for a, d in self.devices.items() if d.answers())

    def write(self, address, data, freq):
        self._clock(len(data), freq)
        self._device(address).write(bytes(data))

    def read(self, address, n, freq):
        self._clock(n, freq)
        return self._device(address).read(n)


class SSD1306:
    """The OLED controller: its command parser, 128x64 GDDRAM, horizontal addressing, display on/off."""

    address = 0x3C

    def __init__(self, world, height=32):
        self.world = world
        self.height = height
        self.ram = bytearray(128 * 8)
        self.on = False
        self.charge_pump = False
        self.contrast = 0x7F
        self.columns = (0, 127)
        self.pages = (0, 7)
        self._column, self._page = 0, 0
        self._pending = None  # a command sent in Co=1 pairs, waiting for its arguments
        self.world.ledger.set("display", "off")

    def answers(self):
        return True

    def read(self, n):
        return bytes(n)  # status reads are not used by the driver

    def write(self, data):
        """One I2C write: control byte(s), then commands or display data (datasheet 8.1.5.2)."""
        i = 0
        while i < len(data):
            control = data[i]
            i += 1
            if control & 0x40:  # D/C# = 1: the rest is GDDRAM data
                for byte in data[i:]:
                    self._data(byte)
                return
            if control & 0x80:  # Co = 1: one command byte, then another control byte
                i = self._command(data, i, single=True)
            else:  # Co = 0: the rest are command bytes
                while i < len(data):
                    i = self._command(data, i, single=False)

    def _command(self, data, i, single):
        """Apply the command at data[i]; return the index after it (and its arguments)."""
        command = data[i]
        if single:  # Co=1: one byte per control byte, so a command's arguments arrive one by one
            pending = self._pending
            if pending is not None:
                pending[1].append(command)
                if len(pending[1]) == _SSD1306_ARGS[pending[0]]:
                    self._pending = None
                    self._apply(pending[0], bytes(pending[1]))
            elif command in _SSD1306_ARGS:
                self._pending = (command, [])
            else:
                self._apply(command, b"")
            return i + 1
        args = data[i + 1 : i + 1 + _SSD1306_ARGS.get(command, 0)]
        self._apply(command, args)
        return i + 1 + len(args)

    def _apply(self, command, args):
        if command in (0xAE, 0xAF):
            self.on = command == 0xAF
            self.world.ledger.set("display", "on" if self.on and self.charge_pump else "off")
        elif command == 0x8D:
            self.charge_pump = bool(args[0] & 0x04)
        elif command == 0x81:
            self.contrast = args[0]
        elif command == 0x21:
            self.columns = (args[0] & 0x7F, args[1] & 0x7F)
            self._column = self.columns[0]
        elif command == 0x22:
            self.pages = (args[0] & 7, args[1] & 7)
            self._page = self.pages[0]

    def _data(self, byte):
        self.ram[self._page * 128 + self._column] = byte
        if self._column < self.columns[1]:
            self._column += 1
        else:
            self._column = self.columns[0]
            self._page = self.pages[0] if self._page >= self.pages[1] else self._page + 1

    def frame(self):
        """The panel's visible rows as MONO_VLSB bytes, or None while the display is off."""
        return bytes(self.ram[: 128 * self.height // 8]) if self.on else None


def _bcd(value):
    return ((value // 10) << 4) | (value % 10)


def _unbcd(value):
    return (value >> 4) * 10 + (value & 0x0F)


class DS3231:
    """Maxim DS3231 (datasheet 19-5170 rev 10): timekeeping registers 00h-06h, control 0Eh,
    status 0Fh with the oscillator-stop flag (set at first power-up and whenever the oscillator
    stopped), aging offset 10h (one LSB about 0.1 ppm; positive slows the clock)."""

    address = 0x68

    def __init__(self, world, ppm=1.5, present=True):
        self.world = world
        self.ppm = ppm  # the crystal's own error at 25 degrees C (datasheet: within +-2 ppm, 0-40 C)
        self.present = present
        self.glitch = None  # "ones": every read 0xFF (SDA stuck high); "bcd": time registers not BCD
        self.regs = bytearray(0x13)
        self.regs[0x0E] = 0x1C
        self.regs[0x0F] = 0x88  # OSF set at power-up, EN32kHz
        self._set_at = (0, self.world.now)  # (seconds since 2000-01-01, world time) of the last write
        self._stopped_at = None
        self._pointer = 0

    def answers(self):
        return self.present

    def stop_oscillator(self):
        """The coin cell died with the board unpowered: time froze and OSF is set."""
        self._stopped_at = self._seconds()
        self.regs[0x0F] |= 0x80

    def _rate(self):
        aging = self.regs[0x10] - 256 if self.regs[0x10] & 0x80 else self.regs[0x10]
        return 1 + (self.ppm - 0.1 * aging) * 1e-6

    def _seconds(self):
        if self._stopped_at is not None:
            return self._stopped_at
        base, since = self._set_at
        return base + int((self.world.now - since) * self._rate())

    def _time_registers(self):
        t = time.gmtime(946684800 + self._seconds())
        return bytes((_bcd(t[5]), _bcd(t[4]), _bcd(t[3]), t[6] + 1, _bcd(t[2]), _bcd(t[1]), _bcd(t[0] % 100)))

    def write(self, data):
        if not data:
            return
        self._pointer = data[0]
        payload = data[1:]
        if self._pointer <= 6 and payload:
            regs = bytearray(self._time_registers())
        for byte in payload:
            if self._pointer <= 6:
                regs[self._pointer] = byte
            elif self._pointer == 0x0F:
                self.regs[0x0F] = (self.regs[0x0F] & byte & 0x80) | (byte & 0x7F)  # OSF: write 0 to clear
            else:
                self.regs[self._pointer] = byte
            self._pointer = (self._pointer + 1) % 0x13
        if data[0] <= 6 and payload:
            self._load_time(regs)

    def _load_time(self, r):
        year, month, day = 2000 + _unbcd(r[6]), _unbcd(r[5] & 0x1F), _unbcd(r[4])
        seconds = calendar.timegm((year, month, day, _unbcd(r[2] & 0x3F), _unbcd(r[1]), _unbcd(r[0]))) - 946684800
        self._set_at = (seconds, self.world.now)  # writing the seconds resets the countdown chain
        self._stopped_at = None

    def read(self, n):
        out = bytearray()
        time_regs = self._time_registers()
        for _ in range(n):
            p = self._pointer
            value = time_regs[p] if p <= 6 else self.regs[p]
            if self.glitch == "ones":
                value = 0xFF
            elif self.glitch == "bcd" and p <= 6:
                value = 0x5A | (value & 0x80)
            out.append(value)
            self._pointer = (p + 1) % 0x13
        return bytes(out)

    def utc(self):
        """What the chip holds now, in Unix seconds (for tests' assertions)."""
        return 946684800 + self._seconds()
