"""The USB serial line on stdin/stdout, read without ever spinning.

On a board, stdin is USB CDC and a read waits for bytes: rp2 and esp32
give sys.stdin.buffer as shared/runtime/sys_stdio_mphal.c stdio_buffer_read,
which takes each byte from mp_hal_stdin_rx_chr, and that waits for the next
(ports/rp2/mphalport.c: mp_event_wait_indefinite; ports/esp32/mphalport.c:
MICROPY_EVENT_POLL_HOOK); a host that goes away just sends no more, with no
end of stream and no error, and poll says readable only while bytes wait
(mp_hal_stdio_poll).  Elsewhere the stream can end or fail: on the unix port
stdin is a POSIX file (extmod/vfs_posix_file.c vfs_posix_file_read, read(2)),
so a read at end of stream returns b"" for ever, a pty that nobody holds
open raises EIO, and a host that disconnects leaves either behind.  A read
loop would then spin at full CPU; here the line is tried again every
IDLE_MS, asleep in between, so the fob waits for a host to come back (its
button keeps working meanwhile).
"""

import asyncio
import select
import sys

IDLE_MS = 1000  # how often a line with nobody on it is tried again
CHUNK = 64  # bytes taken per read once some have arrived


class UsbSerial:
    def __init__(self, stdin=None, stdout=None):
        self._stdin = stdin or sys.stdin.buffer
        self._stdout = stdout or sys.stdout.buffer
        self._reader = asyncio.StreamReader(self._stdin)
        self._poll = select.poll()
        self._poll.register(self._stdin, select.POLLIN)

    async def read(self):
        """Wait until bytes arrive; return those available (never b"")."""
        while True:
            data = b""
            try:
                # stdin.read(n) would block until n bytes: take one, then whatever else is waiting.
                data = await self._reader.read(1)
                while data and len(data) < CHUNK and self._poll.poll(0):
                    more = self._stdin.read(1)
                    if not more:
                        break
                    data += more
            except OSError:  # EIO: nobody holds the line
                pass
            if data:
                return data
            await asyncio.sleep_ms(IDLE_MS)  # end of stream: nobody there; look again later

    def write(self, data):
        """Send ``data``; a reply to a host that went away is lost, as on a board."""
        try:
            self._stdout.write(data)
        except OSError:
            pass
