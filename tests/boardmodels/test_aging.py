"""The DS3231's aging trim over the protocol (CHALLENGE shows it, SYNC sets it), on both boards' real files.

Where a DS3231 is fitted the board exposes its aging register, so `fob sync --trim` works; a C3
without one says the trim is unsupported and leaves the clock alone.
"""

import pytest
from modelfob import SEED, SERIAL, START, exchange

from fobcore import clocksync
from fobsim.models.fob import BOARDS

AGING = 0x10  # the DS3231's aging offset register


def _sync_fields(aging, new_time=START + 4):
    def fields(replies):
        challenge = replies[-1][1]["challenge"]
        key = clocksync.key(SEED, "sha1")
        mac = clocksync.mac(key, "sha1", SERIAL, challenge, new_time, False, aging)
        return (("time", new_time), ("force", "no"), ("aging", aging), ("mac", mac.hex()))

    return fields


@pytest.mark.parametrize("board", BOARDS)
def test_with_a_ds3231_challenge_shows_the_trim_and_sync_writes_it(make_fob, board):
    fob = make_fob(board, usb=True)
    fob.ds3231.regs[AGING] = 0xFD  # -3
    replies = exchange(fob, [("INFO", ()), ("CHALLENGE", ()), ("SYNC", _sync_fields(7))])
    assert len(replies) == 3, replies
    (challenged, challenge), (synced, sync) = replies[1:]
    assert challenged is None and challenge["aging"] == -3, challenge
    assert synced is None and sync["aging"] == 7, sync
    assert fob.ds3231.regs[AGING] == 7


def test_a_c3_without_ds3231_says_the_trim_is_unsupported(make_fob):
    fob = make_fob("esp32c3-ssd1306", usb=True, ds3231=False)
    fob.machine.rtc_memory = b"fobclock"  # its internal RTC was set over USB
    replies = exchange(fob, [("INFO", ()), ("CHALLENGE", ()), ("SYNC", _sync_fields(7))])
    assert len(replies) == 3, replies
    (challenged, challenge), (synced, sync) = replies[1:]
    assert challenged is None and challenge["aging"] is None, challenge
    assert synced == "unsupported", sync


@pytest.mark.parametrize("board", BOARDS)
def test_challenges_never_repeat_even_where_the_ports_random_source_does(make_fob, board):
    fob = make_fob(board, usb=True)
    fob.flash.urandom = bytes  # a source that gives the same bytes every time
    replies = exchange(fob, [("INFO", ()), ("CHALLENGE", ()), ("CHALLENGE", ())])
    first, second = (values["challenge"] for code, values in replies[1:] if code is None)
    assert first != second and len(first) == 16
