"""The device side of the provisioning protocol: one reply line for each received line.

The grammar (frames, fields, the commands and their replies) is
fobcore.wire, shared with the host; docs/protocol.md is the full
description.  Pure and small on purpose: no I/O, no sleeping, so the
board's main loop, the simulator and the tests drive it the same way.
"""

from fobcore import VERSION, base32
from fobcore.wire import (
    INFO_FIELDS,
    MAX_LINE,
    PROTOCOL_VERSION,
    REPLIES,
    SEQ_LIMIT,
    ProtocolError,
    decode_frame,
    encode_fields,
    encode_frame,
    error_body,
    hex4,
    parse_request,
    printable,
)


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
            seq, body = self._accept(line)
        except ProtocolError as error:
            return encode_frame(error.seq, error_body(error.code, str(error)))
        if body is None:
            return self._last_reply
        # From here the frame is in order: whatever the outcome, it used up its number.
        try:
            command, values = parse_request(body, seq)
            reply = encode_frame(seq, encode_fields("OK", REPLIES[command], self._run(command, values, seq)))
        except ProtocolError as error:
            reply = encode_frame(seq, error_body(error.code, str(error)))
        self._last_seq = seq
        self._last_line = bytes(line)
        self._last_reply = reply
        return reply

    def _accept(self, line):
        """``(seq, body)`` of an intact frame in sequence; body is None for a repeat of the last one."""
        if line is None:
            raise ProtocolError("too_long", "frame longer than %d bytes" % MAX_LINE)
        seq, body = decode_frame(line)
        if seq is None:
            raise ProtocolError("sequence", "requests need a sequence number")
        if body == "INFO" or body.startswith("INFO "):
            return seq, body
        if self._last_seq is None:
            raise ProtocolError("sequence", "no session: send INFO first", seq)
        if seq == self._last_seq and line == self._last_line:
            return seq, None
        expected = (self._last_seq + 1) % SEQ_LIMIT
        if seq != expected:
            raise ProtocolError("sequence", "expected sequence %s" % hex4(expected), seq)
        return seq, body

    def _run(self, command, values, seq):
        """The reply's values (a dict) for a well-formed request; TokenError codes become ERR codes."""
        token = self.token
        try:
            if command == "INFO":
                return self._info()
            if command == "SET-TIME":
                token.set_time(values["time"])
                return {"time": token.info()["time"]}
            if command == "PROVISION":
                try:
                    seed = base32.decode(values["seed"])
                except ValueError:
                    raise ProtocolError("bad_param", "seed must be base32", seq)
                token.provision(
                    seed,
                    values["alg"],
                    values["digits"],
                    values["period"],
                    values["serial"],
                    values["expiry"],
                )
            elif command == "CHECK":
                return {"code": token.check()}
            elif command == "SEAL":
                token.seal()
            elif command == "WIPE":
                token.wipe()
            elif command == "CHALLENGE":
                challenge = token.challenge()
                return {
                    "serial": token.serial,
                    "challenge": challenge,
                    "time": token.clock(),
                    "known": token.known_time(),
                    "aging": token.board.aging(),
                }
            elif command == "SYNC":
                old, new, forced = token.sync(values["time"], values["force"], values["mac"], values["aging"])
                return {"old": old, "time": new, "forced": forced, "aging": token.board.aging()}
            return {"state": token.state}
        except ProtocolError:
            raise
        except Exception as error:
            code = getattr(error, "code", None)
            if isinstance(code, str) and code:
                raise ProtocolError(printable(code), str(error), seq)
            raise ProtocolError("internal", "internal error (%s)" % type(error).__name__, seq)

    def _info(self):
        info = self.token.info()
        values = {}
        for key, _ in INFO_FIELDS:
            values[key] = info.get(_INFO_KEYS.get(key, key))
        values["proto"] = PROTOCOL_VERSION
        values["fw"] = info.get("firmware", VERSION)
        return values


# INFO field -> Token.info() key, where they differ.
_INFO_KEYS = {"alg": "algorithms"}
