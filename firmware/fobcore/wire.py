"""The provisioning protocol's grammar, one module for both sides: frames, fields, requests and replies.

A frame is one line of printable ASCII::

    FOB1 <seq> <body> *<crc>\\n

``FOB1`` names the protocol and its version, ``<seq>`` is four upper-case
hex digits, ``<crc>`` the CRC-16/CCITT-FALSE of everything before `` *``.
Replies carry the request's sequence number, or ``----`` when the request's
own could not be trusted.  docs/protocol.md is the full description.

Every command's request fields and its reply's fields are declared here
once, with the kind of each value, so the fob (fobcore.protocol) and the
host (fobhost.serialclient) read and write them by the same rules.  Only
what the fob runs is here: reading a reply is the host's alone
(fobhost.replies, by these tables), so a fob neither stores nor loads it.
Pure: no I/O, no sleeping.
"""

PROTOCOL_VERSION = 1
MAGIC = "FOB%d" % PROTOCOL_VERSION
MAX_LINE = 250
"""Longest frame in bytes, without its line terminator."""
NO_SEQ = "----"
SEQ_LIMIT = 0x10000  # sequence numbers wrap here


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
    """``text`` with anything but printable ASCII replaced by ``?``: safe to send.  Text that is
    already printable, as almost all is, comes back as it is, with nothing allocated on the board."""
    for ch in text:
        if not " " <= ch <= "~":
            break
    else:
        return text
    out = []
    for ch in text:
        out.append(ch if " " <= ch <= "~" else "?")
    return "".join(out)


def hex4(value):
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
    head = "%s %s %s" % (MAGIC, NO_SEQ if seq is None else hex4(seq), body)
    data = head.encode()
    if not _is_printable(data):
        raise ProtocolError("frame", "frame body must be printable ASCII")
    line = data + (" *" + hex4(crc16(data))).encode()
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


# -- the grammar of values, requests and replies --------------------------------------

# Kinds of field value.  "-" stands for an unset value of any kind (None).
NUMBER = 0  # a whole number: 1 to 12 decimal digits
WORD = 1  # printable ASCII without spaces
FLAG = 2  # yes or no
LIST = 3  # words joined by commas
HEX = 4  # bytes as an even number of hex digits
SIGNED = 5  # a whole number that may be negative: an optional "-" and 1 to 12 digits

INFO_FIELDS = (
    ("proto", NUMBER),
    ("fw", WORD),
    ("board", WORD),
    ("serial", WORD),
    ("state", WORD),
    ("sealed", FLAG),
    ("alg", LIST),
    ("free", NUMBER),
    ("time", NUMBER),
    ("ms", NUMBER),  # milliseconds into ``time``'s second, when the fob's clock can tell
    ("expiry", NUMBER),
)
STATE_FIELDS = (("state", WORD),)
# Request fields that may be "-" (unset): SYNC's aging, for "leave the trim as it is".
OPTIONAL_VALUES = ("aging",)

# Request fields: all required, no other allowed.  Reply fields: all present (bar those added since
# version 1, fobhost.replies.ADDED_FIELDS); more are ignored, so a newer fob may say more.
REQUESTS = {
    "INFO": (),
    "SET-TIME": (("time", NUMBER),),
    "PROVISION": (
        ("seed", WORD),
        ("alg", WORD),
        ("digits", NUMBER),
        ("period", NUMBER),
        ("serial", WORD),
        ("expiry", NUMBER),
    ),
    "CHECK": (),
    "SEAL": (),
    "WIPE": (),
    "CHALLENGE": (),
    "SYNC": (("time", NUMBER), ("force", FLAG), ("aging", SIGNED), ("mac", HEX)),
}
REPLIES = {
    "INFO": INFO_FIELDS,
    "SET-TIME": (("time", NUMBER),),
    "PROVISION": STATE_FIELDS,
    "CHECK": (("code", WORD),),
    "SEAL": STATE_FIELDS,
    "WIPE": STATE_FIELDS,
    "CHALLENGE": (("serial", WORD), ("challenge", HEX), ("time", NUMBER), ("known", NUMBER), ("aging", SIGNED)),
    "SYNC": (("old", NUMBER), ("time", NUMBER), ("forced", NUMBER), ("aging", SIGNED)),
}
_HEX_DIGITS = "0123456789abcdefABCDEF"


def decode_value(kind, text):
    """The value of a field of ``kind`` written as ``text``; ValueError if it is not one."""
    if text == "-":
        return None
    if kind == NUMBER or kind == SIGNED:
        digits = text[1:] if kind == SIGNED and text[0] == "-" else text
        if not 1 <= len(digits) <= 12 or not digits.isdigit():
            raise ValueError("a whole number")
        return int(text)
    if kind == FLAG:
        if text != "yes" and text != "no":
            raise ValueError("yes or no")
        return text == "yes"
    if kind == LIST:
        return text.split(",")
    if kind == HEX:
        if len(text) % 2:
            raise ValueError("hex digits")
        for ch in text:
            if ch not in _HEX_DIGITS:
                raise ValueError("hex digits")
        return bytes(int(text[i : i + 2], 16) for i in range(0, len(text), 2))
    return text


def encode_value(kind, value):
    """How ``value`` travels in a field of ``kind``."""
    if kind == FLAG and value is not None:
        return "yes" if value else "no"
    if kind == HEX and value is not None:
        return "".join("%02x" % b for b in value)
    return value_text(value)


def encode_fields(word, spec, values):
    """``WORD key=value ...`` for the fields of ``spec`` taken from the dict ``values``."""
    return format_fields(word, [(key, encode_value(kind, values.get(key))) for key, kind in spec])


def typed(spec, fields, seq=None):
    """The values of ``fields`` (a dict of texts) for the (key, kind) pairs of ``spec``, each decoded."""
    values = {}
    for key, kind in spec:
        if key not in fields:
            raise ProtocolError("bad_param", "missing field '%s'" % key, seq)
        try:
            values[key] = decode_value(kind, fields[key])
        except ValueError as error:
            raise ProtocolError("bad_param", "%s must be %s" % (key, error), seq)
    return values


def parse_request(body, seq=None):
    """``(command, values)`` of a request body: a known command with exactly its fields, typed."""
    words = body.split(" ")
    command = words[0]
    spec = REQUESTS.get(command)
    if spec is None:
        raise ProtocolError("unknown", "unknown command '%s'" % printable(command[:16]), seq)
    fields = parse_fields(words[1:], seq)
    for key in fields:
        if key not in [k for k, _ in spec]:
            raise ProtocolError("bad_param", "%s takes no field '%s'" % (command, printable(key[:16])), seq)
    for key, _ in spec:
        if key not in fields:
            raise ProtocolError("bad_param", "%s needs field '%s'" % (command, key), seq)
        if fields[key] == "-" and key not in OPTIONAL_VALUES:
            raise ProtocolError("bad_param", "%s needs a value for '%s'" % (command, key), seq)
    return command, typed(spec, fields, seq)
