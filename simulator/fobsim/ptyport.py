"""The simulated fob's USB serial port: a pseudo-terminal served from asyncio.

The simulator keeps the slave side open itself, so the port exists (and
reads never fail) whether or not a host program has it open, like a
board plugged into USB with no program attached.
"""

import asyncio
import os
import tty


def open_raw():
    """(master, slave) of a new pseudo-terminal whose bytes pass unchanged: no echo, no CR/LF translation."""
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave


def close_quietly(*fds):
    """Close each of ``fds``; one already closed (or never usable) is no error."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


class PtyPort:
    def __init__(self):
        self._master, self._slave = open_raw()
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._incoming = None

    def start(self, loop):
        """Begin receiving on ``loop``: readiness of the pty wakes it, nothing polls."""
        self._incoming = asyncio.Queue()
        loop.add_reader(self._master, self._on_readable)

    def _on_readable(self):
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        if data:
            self._incoming.put_nowait(data)

    async def read(self):
        """Wait for bytes from the host; return what has arrived."""
        return await self._incoming.get()

    def write(self, data):
        """Send bytes to the host.  A full pty buffer (no reader for a long time) drops them, as USB CDC does."""
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                return
            view = view[written:]

    def close(self, loop=None):
        if loop is not None and self._incoming is not None:
            loop.remove_reader(self._master)
            self._incoming.put_nowait(b"")  # wake the reader: it goes on with whatever port the board has now
        close_quietly(self._master, self._slave)


class Unplugged:
    """The port while USB is out: reads wait until it is plugged in again, writes are lost."""

    def __init__(self, loop):
        self._plugged = loop.create_future()

    async def read(self):
        return await self._plugged

    def write(self, data):
        pass

    def plug(self):
        self._plugged.set_result(b"")
