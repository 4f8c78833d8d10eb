"""Reading the fob's replies, by the grammar the fob writes them with (fobcore.wire.REPLIES).

The host's half of the protocol: a fob writes replies and never reads one, so
this lives outside fobcore, where a fob neither stores nor loads it (each
module a board imports costs its heap; docs/firmware.md).
"""

from fobcore.wire import REPLIES, ProtocolError, parse_fields, printable, typed

# Reply fields added after version 1 first shipped: a fob with older firmware leaves them out.
ADDED_FIELDS = ("ms",)


def parse_reply(command, body):
    """The reply body to ``command``: ``(None, values)`` for OK, ``(code, message)`` for ERR.

    ProtocolError (code ``reply``) for anything else, or an OK without the fields REPLIES promises.
    """
    words = body.split(" ")
    if words[0] == "ERR" and len(words) >= 2:
        return words[1], " ".join(words[2:])
    if words[0] != "OK":
        raise ProtocolError("reply", "unexpected reply '%s'" % printable(words[0][:16]))
    try:
        fields = parse_fields(words[1:])
        for key in ADDED_FIELDS:
            fields.setdefault(key, "-")  # unset, as an older fob that leaves it out means
        return None, typed(REPLIES[command], fields)
    except ProtocolError as error:
        raise ProtocolError("reply", "malformed reply (%s)" % error) from None
