"""A protocol device served on a pseudo-terminal, for tests, benchmarks and the simulator.

``PtyDevice(handler)`` opens a pty and answers every line written to its
``port`` (e.g. ``/dev/pts/7``) with ``handler.handle(line)``, exactly as a
board's main loop does with ``fobcore.protocol.DeviceHandler``.  pyserial,
``fob provision`` and ``fob info`` open the port like a USB serial device.
``close()`` makes the device vanish as if unplugged.
"""

import os
import select
import threading
import tty

from fobcore import wire


class PtyDevice:
    """Serves ``handler`` (anything with ``handle(line) -> reply bytes``) on a new pty."""

    def __init__(self, handler, max_line=wire.MAX_LINE):
        self.handler = handler
        self.error = None  # an exception the handler raised, which stopped the device
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing: bytes pass as they are
        self.port = os.ttyname(self._slave)
        self._assembler = wire.LineAssembler(max_line)
        self._wake_read, self._wake_write = os.pipe()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="pty-device %s" % self.port, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Stop serving and close the pty: the port disappears like an unplugged board."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            os.write(self._wake_write, b"x")
        if threading.current_thread() is not self._thread:
            self._thread.join()
        self._release()

    def _release(self):
        for fd in (self._master, self._slave, self._wake_read, self._wake_write):
            try:
                os.close(fd)
            except OSError:
                pass

    def _serve(self):
        try:
            while True:
                ready, _, _ = select.select([self._master, self._wake_read], [], [])
                if self._wake_read in ready:
                    return
                try:
                    data = os.read(self._master, 4096)
                except OSError:
                    return
                for line in self._assembler.feed(data):
                    reply = self.handler.handle(line)
                    if reply:
                        os.write(self._master, reply)
                    if self._closed:
                        return
        except Exception as error:  # reported to the owner, never lost silently
            self.error = error
