"""A board inside the MicroPython VM: the real framebuf, files in the VM's filesystem, a clock the script moves."""

import os
import random

import framebuf

from fobcore.board import Board


class ScriptBoard(Board):
    name = "vm"

    def __init__(self, unix_time=None, width=128, height=32, storage="/data"):
        self.width = width
        self.height = height
        self.buffer = bytearray(width * height // 8)
        self.framebuffer = framebuf.FrameBuffer(self.buffer, width, height, framebuf.MONO_VLSB)
        self.storage = storage
        try:
            os.mkdir(storage)
        except OSError:
            pass
        self.start = unix_time
        self.ms = 0
        self.shows = 0
        self.display_on = False
        self.kbd_intr_enabled = True
        self.serial_out = bytearray()

    def time(self):
        return None if self.start is None else self.start + self.ms // 1000

    def set_time(self, unix_seconds):
        self.start = None if unix_seconds is None else unix_seconds - self.ms // 1000

    def ticks_ms(self):
        return self.ms

    def ticks_diff(self, a, b):
        return a - b

    def advance(self, ms):
        self.ms += ms

    def show(self):
        self.shows += 1

    def display_power(self, on):
        self.display_on = on

    def write_serial(self, data):
        self.serial_out += data

    def set_kbd_intr(self, enabled):
        self.kbd_intr_enabled = enabled

    def storage_dir(self):
        return self.storage

    def random_bytes(self, count):
        return bytes(random.getrandbits(8) for _ in range(count))  # tests only: the VM has no os.urandom
