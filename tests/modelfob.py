"""Helpers for tests of fobs on the board models: a provisioned fob, and the frames a correct fob shows."""

import os

from fobcore import render, wire
from fobcore.monofb import FrameBuffer
from fobcore.record import Record, Store
from fobhost.replies import parse_reply
from fobsim.models.fob import Fob
from oracles import pyotp_totp_at

START = 1_800_000_010  # 10 s into a 30 s step
SEED = bytes(range(40, 60))
SERIAL = "20260042"


def provisioned(board, flash_dir, provisioned=True, clock_set=True, **options):
    """A sealed, provisioned fob of ``board`` whose DS3231 holds the true time."""
    fob = Fob(board, flash_dir, utc=START, **options)
    if provisioned:
        os.makedirs(fob.flash.path("/data"), exist_ok=True)
        record = Record(SEED, "sha1", 6, 30, SERIAL, START + 5 * 365 * 86400, sealed=True)
        Store(str(fob.flash.path("/data"))).save(record)
    if clock_set:
        fob.set_clock(START)
    return fob


def frame_of(draw, *args):
    fb = FrameBuffer(bytearray(128 * 32 // 8), 128, 32)
    draw(fb, 128, 32, *args)
    return bytes(fb.buf)


def code_frame(fob, at=None):
    """The code screen a correct fob shows at world time ``at`` (the true UTC time)."""
    utc = int(fob.world.utc() if at is None else fob.world.utc_start + at)
    left = 30 - utc % 30
    return frame_of(render.draw_code, pyotp_totp_at(SEED, utc, period=30), left, 30, SERIAL)


def message_frame(title, subtitle=SERIAL):
    return frame_of(render.draw_message, title, subtitle)


def frames_between(fob, start, end):
    return [frame for t, frame in fob.screens() if start <= t < end]


def woke_time(fob, after):
    """When the first frame after ``after`` was shown."""
    return next(t for t, _ in fob.screens() if t >= after)


def exchange(fob, requests):
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
