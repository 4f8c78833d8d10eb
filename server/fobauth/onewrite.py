"""An HTTP answer's head and body sent to the socket in one write.

uvicorn writes a response's status line and headers when the app sends
``http.response.start``, and its body at ``http.response.body``: two send()
calls for a verification's answer of a few dozen bytes, two TCP segments, two
wake-ups of the client.  ``HeadJoined`` stands in for the transport of one
request's response (fobauth.limits.LimitedHttpTools puts it there): the
response's first write waits for its second and goes out with it, where
uvicorn wrote before, so nothing else on the connection (uvicorn's own error
answers, end of stream, shutdown) can come between.  A first write left alone
(a head whose body is slow to come) goes out at the end of the event loop's
pass.  Joining every write of a pass instead lost answers under uvloop: bytes
the loop read in that pass could close the connection first (a review's
experiments; tests/server/test_onewrite.py runs them on uvloop).

Measured on 2026-12-02 in five interleaved pairs of wrk runs against two
workers on PostgreSQL, this code against none (medians): the server's
system CPU per verification 214 -> 199 µs, the rate 980 -> 1,057/s, its
user CPU unchanged (875 -> 854 µs).  Three earlier sets, of a prototype and
of the first version: 245 -> 211, 190 -> 174 and 206 -> 201 µs.  The
machine's own speed moved more than that between runs: a small gain, kept
because it is one send() less per answer for certain.
"""


class HeadJoined:
    """``transport`` for one response, whose first write goes out with its second."""

    def __init__(self, transport, loop):
        self._transport = transport
        self._loop = loop
        self._first = True
        self._held = None

    def write(self, data):
        if self._first:
            self._first = False
            self._held = data
            self._loop.call_soon(self.flush)
        elif self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held + data)
        else:
            self._transport.write(data)

    def flush(self):
        if self._held is not None:
            held, self._held = self._held, None
            if not self._transport.is_closing():  # the connection is gone: uvloop would raise
                self._transport.write(held)

    def close(self):
        self.flush()
        self._transport.close()

    def __getattr__(self, name):  # is_closing, get_extra_info and the rest: the transport's own
        return getattr(self._transport, name)
