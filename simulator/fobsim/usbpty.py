"""A board model's USB serial port: a pty, with the cable plugged in while a host program holds it open.

The simulator does not hold the slave side itself (as fobsim.ptyport does):
Linux reports POLLHUP on the master while no process has the slave open, so
a host opening the port (`fob provision --port`, pyserial) is the USB cable
going in, and its closing the cable coming out.  poll cannot wait for a
POLLHUP to end, so while nobody holds the port the watcher looks again every
IDLE_S; while a host holds it, the watcher sleeps in poll until bytes or the
hang-up come.
"""

import os
import select
import threading
import tty

IDLE_S = 0.1  # how often a port nobody holds is looked at for a host


class UsbPty:
    def __init__(self):
        self._master, slave = os.openpty()
        tty.setraw(slave)  # bytes pass unchanged: no echo, no CR/LF translation (kept with the pty)
        self.path = os.ttyname(slave)
        os.close(slave)  # nobody holds it: the cable is out until a host opens the port
        self._closed = threading.Event()

    def watch(self, on_usb, on_data):
        """In a thread of its own: ``on_usb(True/False)`` when a host opens or closes the port,
        ``on_data(bytes)`` for what it sends; returns after ``close()``."""
        poll = select.poll()
        poll.register(self._master, select.POLLIN | select.POLLHUP)
        attached = False
        while not self._closed.is_set():
            try:
                events = poll.poll(None if attached else 0)
            except (OSError, ValueError):
                return
            mask = 0
            for _, bits in events:
                mask |= bits
            if mask & select.POLLNVAL:
                return
            if mask & select.POLLIN:
                try:
                    data = os.read(self._master, 4096)
                except OSError:  # EIO: the host closed it as we read
                    data = b""
                if data:
                    if not attached:
                        attached = True
                        on_usb(True)
                    on_data(data)
                    continue
            hung_up = bool(mask & select.POLLHUP)
            if attached == hung_up:
                attached = not hung_up
                on_usb(attached)
            if not attached:
                self._closed.wait(IDLE_S)

    def write(self, data):
        """Send bytes to the host; lost if nobody holds the port or its buffer is full, as with USB CDC."""
        try:
            os.write(self._master, data)
        except OSError:
            pass

    def close(self):
        self._closed.set()
        try:
            os.close(self._master)
        except OSError:
            pass
