"""A simulated token's directory: ``flash/`` (the board's filesystem) and ``clock.json`` (its RTC).

Both engines keep a token the same way, so one token can be run under
CPython or inside the MicroPython VM: the seed record lives in
``flash/data``, where a board keeps it in ``/data``.
"""

import fcntl
import os
import shutil
import time
from pathlib import Path

from fobsim.clock import VirtualClock


def flash_dir(directory):
    """The board's filesystem, private to its owner: it holds the seed record."""
    flash = Path(directory) / "flash"
    (flash / "data").mkdir(parents=True, exist_ok=True)
    flash.chmod(0o700)  # the record itself is written with the default umask, as a board writes it
    return flash


def clock_path(directory):
    return str(Path(directory) / "clock.json")


def open_clock(directory, offset=None, drift_ppm=None, speed=1.0):
    """The token's RTC with this run's options applied, saved back.

    A drift change applies from now on; an offset (or a new token, whose
    RTC was set at the factory) sets the clock to host UTC plus offset.
    """
    Path(directory).mkdir(parents=True, exist_ok=True)
    path = clock_path(directory)
    clock = VirtualClock.load(path, speed=speed)
    if drift_ppm is not None:
        if clock.is_set:
            clock.set(clock.now())  # the old rate up to now, the new one from now on
        clock.drift_ppm = float(drift_ppm)
    if offset is not None or not clock.is_set:
        clock.skew(offset or 0)
    clock.save(path)
    return clock


def erase(directory):
    """Forget the token (its flash and its clock), leaving anything else in ``directory`` alone."""
    shutil.rmtree(Path(directory) / "flash", ignore_errors=True)
    Path(clock_path(directory)).unlink(missing_ok=True)


def describe_time(fob_time):
    """The fob's time for a status line."""
    if fob_time is None:
        return "clock not set"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(fob_time))


class TokenBusy(Exception):
    """Another simulator is running this token."""


class NotATokenDir(Exception):
    """The path cannot hold a simulated token: a file, a device, another program's directory."""


# What a token directory holds; anything else in it means it is somebody else's directory.
_TOKEN_FILES = {"flash", "clock.json", "lock"}


def check(directory):
    """Raise NotATokenDir unless ``directory`` is missing, empty or a token directory."""
    path = Path(directory)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise NotATokenDir("%s is not a directory" % path)
    if path.resolve() == Path(path.resolve().anchor):
        raise NotATokenDir("%s is the root directory: name a new or empty directory" % path)
    if path.is_dir():
        try:
            names = set(os.listdir(path))
        except OSError as error:
            raise NotATokenDir("%s: %s" % (path, error.strerror)) from None
        if names and not names & _TOKEN_FILES:
            raise NotATokenDir("%s holds other files, not a simulated token: name a new or empty directory" % path)


def claim(directory):
    """Hold the token for this process (released when it exits): two simulators must not share one flash."""
    check(directory)
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        lock = open(Path(directory) / "lock", "a")  # noqa: SIM115 - held open for the life of the process
    except OSError as error:
        raise NotATokenDir("%s: %s" % (directory, error.strerror)) from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise TokenBusy("the token in %s is already running in another simulator" % directory) from None
    return lock
