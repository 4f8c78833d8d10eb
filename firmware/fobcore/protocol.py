"""The provisioning line protocol: framing for both sides, and the device side.

A frame is one line of printable ASCII::

    FOB1 <seq> <body> *<crc>\\n

``FOB1`` names the protocol and its version, ``<seq>`` is four upper-case
hex digits, ``<crc>`` the CRC-16/CCITT-FALSE of everything before `` *``.
Replies carry the request's sequence number, or ``----`` when the request's
own could not be trusted.  docs/protocol.md is the full description.

Pure and small on purpose: no I/O, no sleeping, so the board's main loop,
the simulator and the tests drive it the same way.
"""

from fobcore import VERSION, base32

PROTOCOL_VERSION = 1
MAGIC = "FOB%d" % PROTOCOL_VERSION
MAX_LINE = 250
"""Longest frame in bytes, without its line terminator."""
NO_SEQ = "----"
_SEQ_LIMIT = 0x10000


class ProtocolError(ValueError):
    """A frame that cannot be accepted; ``code`` is a short stable identifier."""

    def __init__(self, code, message, seq=None):
        super().__init__(message)
        self.code = code
        self.seq = seq


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of ``data`` (bytes)."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            if crc & 0x8000:
                crc = ((crc << 1) ^ 0x1021) & 0xFFFF
            else:
                crc = (crc << 1) & 0xFFFF
    return crc


def _is_printable(data):
    for byte in data:
        if byte < 0x20 or byte > 0x7E:
            return False
    return True


def printable(text):
    """``text`` with anything but printable ASCII replaced by ``?``: safe to send."""
    out = []
    for ch in text:
        out.append(ch if " " <= ch <= "~" else "?")
    return "".join(out)


def _hex4(value):
    text = "%X" % value
    return "0" * (4 - len(text)) + text


def _parse_hex4(text):
    if len(text) != 4:
        return -1
    value = 0
    for ch in text:
        digit = "0123456789ABCDEF".find(ch)
        if digit < 0:
            return -1
        value = value * 16 + digit
    return value


def encode_frame(seq, body):
    """The complete line (bytes, with ``\\n``) carrying ``body`` (str) as number ``seq``.

    ``seq`` is 0..65535, or None for a reply that cannot name its request.
    """
    head = "%s %s %s" % (MAGIC, NO_SEQ if seq is None else _hex4(seq), body)
    data = head.encode()
    if not _is_printable(data):
        raise ProtocolError("frame", "frame body must be printable ASCII")
    line = data + (" *" + _hex4(crc16(data))).encode()
    if len(line) > MAX_LINE:
        raise ProtocolError("too_long", "frame longer than %d bytes" % MAX_LINE)
    return line + b"\n"


def decode_frame(line):
    """``(seq, body)`` of a received line (bytes, terminator stripped).

    ``seq`` is an int, or None for ``----``.  Raises ProtocolError; its
    ``seq`` is set once the frame's checksum has vouched for the number.
    """
    if len(line) > MAX_LINE:
        raise ProtocolError("too_long", "frame longer than %d bytes" % MAX_LINE)
    if not _is_printable(line):
        raise ProtocolError("frame", "frame is not printable ASCII")
    text = line.decode()
    if len(text) < 16 or text[-6:-4] != " *" or text[4] != " " or text[9] != " ":
        raise ProtocolError("frame", "not a frame: expected 'FOB1 <seq> <body> *<crc>'")
    crc = _parse_hex4(text[-4:])
    if crc < 0 or crc != crc16(line[:-6]):
        raise ProtocolError("crc", "checksum mismatch")
    seq_text = text[5:9]
    seq = None if seq_text == NO_SEQ else _parse_hex4(seq_text)
    if seq is not None and seq < 0:
        raise ProtocolError("frame", "sequence number must be 4 hex digits")
    if text[:3] != "FOB" or text[:4] != MAGIC:
        raise ProtocolError("version", "protocol '%s' not supported (this side speaks %s)" % (text[:4], MAGIC), seq)
    body = text[10:-6]
    if not body or body[0] == " " or body[-1] == " ":
        raise ProtocolError("frame", "empty body or stray space", seq)
    return seq, body


def format_fields(word, fields):
    """``WORD key=value ...``; ``fields`` is a sequence of (key, value) pairs."""
    parts = [word]
    for key, value in fields:
        parts.append("%s=%s" % (key, value))
    return " ".join(parts)


def parse_fields(words, seq=None):
    """A dict from ``key=value`` words; a repeated, empty or shapeless one is an error."""
    fields = {}
    for word in words:
        cut = word.find("=")
        if cut < 1 or cut == len(word) - 1:
            raise ProtocolError("bad_param", "expected key=value", seq)
        key = word[:cut]
        if key in fields:
            raise ProtocolError("bad_param", "field '%s' given twice" % printable(key[:16]), seq)
        fields[key] = word[cut + 1 :]
    return fields


def value_text(value):
    """How a field value travels: None and "" as ``-``, lists comma-joined, no spaces."""
    if value is None or value == "":
        return "-"
    if isinstance(value, (list, tuple)):
        value = ",".join(value)
    return printable(str(value)).replace(" ", "_")


def error_body(code, message):
    """``ERR <code> <message>``, cut short enough to fit any frame."""
    return "ERR %s %s" % (value_text(code)[:24], printable(message)[:160] or "-")


class LineAssembler:
    """Splits received bytes into lines of at most ``max_len`` bytes.

    ``feed(data)`` returns the lines completed by ``data`` (bytes, without
    ``\\n`` or a trailing ``\\r``).  A line that grew too long is dropped up
    to its end and reported once as None, so the handler can answer it.
    """

    def __init__(self, max_len=MAX_LINE):
        self.max_len = max_len
        self._buffer = bytearray()
        self._overflow = False

    def feed(self, data):
        lines = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            chunk = data[start:] if end < 0 else data[start:end]
            if not self._overflow:
                if len(self._buffer) + len(chunk) > self.max_len + 1:
                    self._overflow = True
                    self._buffer = bytearray()
                else:
                    self._buffer.extend(chunk)
            if end < 0:
                return lines
            if self._overflow:
                lines.append(None)
            else:
                line = bytes(self._buffer)
                if line.endswith(b"\r"):
                    line = line[:-1]
                if len(line) > self.max_len:
                    line = None
                lines.append(line)
            self._buffer = bytearray()
            self._overflow = False
            start = end + 1


def _int_field(fields, key, seq):
    text = fields[key]
    if not (1 <= len(text) <= 12) or not text.isdigit():
        raise ProtocolError("bad_param", "%s must be a whole number" % key, seq)
    return int(text)


# The fields each command takes: all required, nothing else allowed.
_COMMAND_FIELDS = {
    "INFO": (),
    "SET-TIME": ("time",),
    "PROVISION": ("seed", "alg", "digits", "period", "serial", "expiry"),
    "CHECK": (),
    "SEAL": (),
    "WIPE": (),
}


class DeviceHandler:
    """The device side: ``handle(line)`` answers one received line with one reply line.

    Sequence rule: INFO is accepted with any number and opens a session;
    every other frame must carry the number after the last accepted one,
    and an intact frame in order uses its number up even when refused.
    Repeating the last accepted frame byte for byte returns the same reply
    without acting again, so the host may safely retry after a lost reply.
    """

    def __init__(self, token):
        self.token = token
        self._last_seq = None
        self._last_line = None
        self._last_reply = None

    def handle(self, line):
        try:
            seq, words = self._accept(line)
        except ProtocolError as error:
            return encode_frame(error.seq, error_body(error.code, str(error)))
        if words is None:
            return self._last_reply
        # From here the frame is in order: whatever the outcome, it used up its number.
        try:
            body = self._run(words[0], self._fields(words, seq), seq)
            reply = encode_frame(seq, body)
        except ProtocolError as error:
            reply = encode_frame(seq, error_body(error.code, str(error)))
        self._last_seq = seq
        self._last_line = bytes(line)
        self._last_reply = reply
        return reply

    def _accept(self, line):
        """``(seq, words)`` of an intact frame in sequence; words is None for a repeat of the last one."""
        if line is None:
            raise ProtocolError("too_long", "frame longer than %d bytes" % MAX_LINE)
        seq, body = decode_frame(line)
        if seq is None:
            raise ProtocolError("sequence", "requests need a sequence number")
        words = body.split(" ")
        if words[0] == "INFO":
            return seq, words
        if self._last_seq is None:
            raise ProtocolError("sequence", "no session: send INFO first", seq)
        if seq == self._last_seq and line == self._last_line:
            return seq, None
        expected = (self._last_seq + 1) % _SEQ_LIMIT
        if seq != expected:
            raise ProtocolError("sequence", "expected sequence %s" % _hex4(expected), seq)
        return seq, words

    def _fields(self, words, seq):
        """The fields of a known command, all present and nothing else."""
        command = words[0]
        if command not in _COMMAND_FIELDS:
            raise ProtocolError("unknown", "unknown command '%s'" % printable(command[:16]), seq)
        fields = parse_fields(words[1:], seq)
        wanted = _COMMAND_FIELDS[command]
        for key in fields:
            if key not in wanted:
                raise ProtocolError("bad_param", "%s takes no field '%s'" % (command, printable(key[:16])), seq)
        for key in wanted:
            if key not in fields:
                raise ProtocolError("bad_param", "%s needs field '%s'" % (command, key), seq)
        return fields

    def _run(self, command, fields, seq):
        token = self.token
        try:
            if command == "INFO":
                return self._info()
            if command == "SET-TIME":
                token.set_time(_int_field(fields, "time", seq))
                return format_fields("OK", (("time", value_text(token.info()["time"])),))
            if command == "PROVISION":
                try:
                    seed = base32.decode(fields["seed"])
                except ValueError:
                    raise ProtocolError("bad_param", "seed must be base32", seq)
                token.provision(
                    seed,
                    fields["alg"],
                    _int_field(fields, "digits", seq),
                    _int_field(fields, "period", seq),
                    fields["serial"],
                    _int_field(fields, "expiry", seq),
                )
            elif command == "CHECK":
                return format_fields("OK", (("code", token.check()),))
            elif command == "SEAL":
                token.seal()
            elif command == "WIPE":
                token.wipe()
            return format_fields("OK", (("state", token.state),))
        except ProtocolError:
            raise
        except OSError:
            raise ProtocolError("storage", "storage error", seq)
        except Exception as error:
            code = getattr(error, "code", None)
            if isinstance(code, str) and code:
                raise ProtocolError(printable(code), str(error), seq)
            raise ProtocolError("internal", "internal error (%s)" % type(error).__name__, seq)

    def _info(self):
        info = self.token.info()
        return format_fields(
            "OK",
            (
                ("proto", PROTOCOL_VERSION),
                ("fw", value_text(info.get("firmware", VERSION))),
                ("board", value_text(info.get("board"))),
                ("serial", value_text(info.get("serial"))),
                ("state", value_text(info.get("state"))),
                ("sealed", "yes" if info.get("sealed") else "no"),
                ("alg", value_text(info.get("algorithms"))),
                ("free", value_text(info.get("free"))),
                ("time", value_text(info.get("time"))),
                ("expiry", value_text(info.get("expiry"))),
            ),
        )
