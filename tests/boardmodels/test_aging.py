"""The DS3231's aging trim over the protocol (CHALLENGE shows it, SYNC sets it), on both boards' real files.

Where a DS3231 is fitted the board exposes its aging register, so `fob sync --trim` works; a C3
without one says the trim is unsupported and leaves the clock alone.
"""

import pytest
from modelfob import SEED, SERIAL, START

from fobcore import clocksync, wire
from fobhost.replies import parse_reply

AGING = 0x10  # the DS3231's aging offset register


def _exchange(fob, requests):
    """Send (command, fields) requests one a second over the fob's USB serial; their parsed replies."""
    replies = []
    state = {"seq": 0, "sent": 0}

    def send(command, fields):
        state["seq"] += 1
        state["sent"] = len(fob.serial.outgoing)
        fob.send(wire.encode_frame(state["seq"], wire.format_fields(command, fields)))

    def step(i):
        try:
            reply_and_send(i)
        except Exception as error:  # noqa: BLE001 -- raised here it would reset the modelled chip
            replies.append(("test", repr(error)))

    def reply_and_send(i):
        if i:
            line = bytes(fob.serial.outgoing[state["sent"] :]).strip()
            command = requests[i - 1][0]
            replies.append(parse_reply(command, wire.decode_frame(line)[1]))
        if i < len(requests):
            command, fields = requests[i]
            send(command, fields(replies) if callable(fields) else fields)

    for i in range(len(requests) + 1):
        fob.world.at(2 + i, lambda i=i: step(i))
    fob.run_until(3 + len(requests))
    return replies


def _sync_fields(aging, new_time=START + 4):
    def fields(replies):
        challenge = replies[-1][1]["challenge"]
        key = clocksync.key(SEED, "sha1")
        mac = clocksync.mac(key, "sha1", SERIAL, challenge, new_time, False, aging)
        return (("time", new_time), ("force", "no"), ("aging", aging), ("mac", mac.hex()))

    return fields


@pytest.mark.parametrize("board", ["rp2-pico-ssd1306", "esp32c3-ssd1306"])
def test_with_a_ds3231_challenge_shows_the_trim_and_sync_writes_it(make_fob, board):
    fob = make_fob(board, usb=True)
    fob.ds3231.regs[AGING] = 0xFD  # -3
    replies = _exchange(fob, [("INFO", ()), ("CHALLENGE", ()), ("SYNC", _sync_fields(7))])
    assert len(replies) == 3, replies
    (challenged, challenge), (synced, sync) = replies[1:]
    assert challenged is None and challenge["aging"] == -3, challenge
    assert synced is None and sync["aging"] == 7, sync
    assert fob.ds3231.regs[AGING] == 7


def test_a_c3_without_ds3231_says_the_trim_is_unsupported(make_fob):
    fob = make_fob("esp32c3-ssd1306", usb=True, ds3231=False)
    fob.machine.rtc_memory = b"fobclock"  # its internal RTC was set over USB
    replies = _exchange(fob, [("INFO", ()), ("CHALLENGE", ()), ("SYNC", _sync_fields(7))])
    assert len(replies) == 3, replies
    (challenged, challenge), (synced, sync) = replies[1:]
    assert challenged is None and challenge["aging"] is None, challenge
    assert synced == "unsupported", sync
