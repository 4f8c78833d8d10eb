"""The host side of the provisioning protocol over a serial port (pyserial).

``DeviceClient`` numbers and checks frames, waits for the matching reply
with a deadline and retries where that is safe: the device answers a
repeated frame from its cache without acting twice (docs/protocol.md).
Replies are read by the grammar the fob writes them with (fobcore.wire, fobhost.replies):
``request`` returns a reply's values typed (numbers as int, flags as bool,
unset as None) and refuses a reply that lacks a promised field.  Errors
name the command that failed and never quote a frame, since a PROVISION
frame carries the seed.
"""

import secrets
import time

import serial

from fobcore import wire
from fobhost import replies

try:
    from termios import error as _TermiosError
except ImportError:  # Windows: pyserial reports everything as SerialException or OSError
    _TermiosError = OSError

# What a serial port raises when the device behind it goes away.
_PORT_ERRORS = (serial.SerialException, OSError, _TermiosError)
DEFAULT_TIMEOUT = 2.0
DEFAULT_ATTEMPTS = 3
# Device errors that say the request never arrived intact: resending is safe.
_RESEND_CODES = {"crc", "frame", "too_long"}


class DeviceError(Exception):
    """The device refused a command; ``code`` is its stable error identifier."""

    def __init__(self, command, code, message):
        super().__init__("%s refused by the device: %s (%s)" % (command, message, code))
        self.command = command
        self.message = message
        self.code = code


class LinkError(Exception):
    """No usable reply: port gone, timeouts or replies garbled on every attempt."""

    def __init__(self, command, message):
        super().__init__("%s: %s" % (command, message))
        self.command = command


class DeviceClient:
    """A session with one fob; ``request(command, fields)`` returns the reply's fields."""

    def __init__(self, port, timeout=DEFAULT_TIMEOUT, attempts=DEFAULT_ATTEMPTS, baudrate=115200):
        self.port_name = port
        self.timeout = timeout
        self.attempts = attempts
        self.bytes_sent = 0
        self.bytes_received = 0
        self.round_trip = None  # seconds from sending the last request to its reply
        self.fastest_round_trip = None  # the shortest seen: the link's own delay, without the fob's pauses
        self._seq = secrets.randbelow(wire.SEQ_LIMIT)
        try:
            self._serial = serial.Serial(port, baudrate, timeout=0.05, write_timeout=timeout)
        except _PORT_ERRORS as error:
            raise LinkError("open", "cannot open %s (%s)" % (port, _reason(error))) from None
        self._assembler = wire.LineAssembler(wire.MAX_LINE)
        self._pending = []

    def close(self):
        try:
            self._serial.close()
        except _PORT_ERRORS:
            pass  # already gone

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def request(self, command, values=None):
        """Send ``command`` with ``values`` (a dict of its fields, fobcore.wire.REQUESTS); return the
        reply's values as a dict (fobcore.wire.REPLIES).

        INFO opens the session and may go first at any time; every command
        after it takes the next sequence number.
        """
        self._seq = (self._seq + 1) % wire.SEQ_LIMIT
        frame = wire.encode_frame(self._seq, wire.encode_fields(command, wire.REQUESTS[command], values or {}))
        problem = "no reply"
        for _ in range(self.attempts):
            sent = self._write(command, frame)
            deadline = time.monotonic() + self.timeout
            while True:
                reply = self._read_frame(command, deadline)
                if reply is None:
                    problem = "no reply within %.1f s" % self.timeout
                    break
                seq, body = reply
                if isinstance(body, wire.ProtocolError):
                    problem = "garbled reply (%s)" % body.code
                    break
                if seq != self._seq and seq is not None:
                    continue  # a late answer to an earlier attempt
                try:
                    code, outcome = replies.parse_reply(command, body)
                except wire.ProtocolError as error:
                    if seq is None:
                        continue
                    raise LinkError(command, str(error)) from None
                if code is None and seq is not None:
                    self.round_trip = time.monotonic() - sent
                    self.fastest_round_trip = min(self.round_trip, self.fastest_round_trip or self.round_trip)
                    return outcome
                if code is not None:
                    if seq is None and code in _RESEND_CODES:
                        problem = "the device received a damaged frame (%s)" % code
                        break
                    raise DeviceError(command, code, outcome)
        raise LinkError(command, "%s after %d attempts" % (problem, self.attempts))

    def _write(self, command, frame):
        try:
            self._serial.reset_input_buffer()
            self._pending = []
            self._assembler = wire.LineAssembler(wire.MAX_LINE)
            sent = time.monotonic()
            self._serial.write(frame)
            self._serial.flush()
        except _PORT_ERRORS as error:
            raise LinkError(command, "the device went away (%s)" % _reason(error)) from None
        self.bytes_sent += len(frame)
        return sent

    def _read_frame(self, command, deadline):
        """The next frame as (seq, body), (None, ProtocolError) if damaged, or None at the deadline.

        Lines that are not frames (a boot banner, REPL noise) are skipped.
        """
        while time.monotonic() < deadline:
            while self._pending:
                line = self._pending.pop(0)
                if line is None:
                    return None, wire.ProtocolError("too_long", "reply too long")
                if not line.startswith(b"FOB"):
                    continue
                try:
                    return wire.decode_frame(line)
                except wire.ProtocolError as error:
                    return None, error
            try:
                data = self._serial.read(self._serial.in_waiting or 1)
            except _PORT_ERRORS as error:
                raise LinkError(command, "the device went away (%s)" % _reason(error)) from None
            if data:
                self.bytes_received += len(data)
                self._pending.extend(self._assembler.feed(data))
        return None


def _reason(error):
    """What the OS or pyserial said; neither ever sees frame contents."""
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
