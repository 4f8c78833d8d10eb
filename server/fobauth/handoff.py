"""Blocking calls handed from the event loop to a few threads, with less machinery than an executor.

Verification runs its two database statements on a thread, one per pooled
connection, so that the event loop keeps reading and answering other
requests meanwhile.  ``loop.run_in_executor`` does that through
concurrent.futures: a second future, a lock and a condition per call, the
executor's thread accounting, and callbacks chaining one future to the other.
Measured per verification (callgrind, one `fob serve` process on PostgreSQL,
the same 300 requests): 1,126,000 instructions through the executor,
1,029,000 through ``Handoff``, of which the thread hop itself is what
changed (the call inline on the loop, which would block it: 1,004,000).
"""

import asyncio
import queue
import threading


def _settle(future, succeeded, outcome):
    if not future.cancelled():  # the request was given up (its client went away) while the call ran
        if succeeded:
            future.set_result(outcome)
        else:
            future.set_exception(outcome)


class Handoff:
    """``await handoff.call(function, *args)``: ``function(*args)`` on one of ``threads`` daemon threads
    named ``name``, its value or exception back on the caller's event loop; calls beyond ``threads``
    wait in order.  The threads wait for calls for the life of the process."""

    def __init__(self, threads, name):
        self._calls = queue.SimpleQueue()
        for number in range(threads):
            threading.Thread(target=self._serve, name="%s_%d" % (name, number), daemon=True).start()

    def call(self, function, *args):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._calls.put((loop, future, function, args))
        return future

    def _serve(self):
        while True:
            loop, future, function, args = self._calls.get()
            try:
                outcome, succeeded = function(*args), True
            except BaseException as error:  # the caller's to handle, as an executor would pass it on
                outcome, succeeded = error, False
            try:
                loop.call_soon_threadsafe(_settle, future, succeeded, outcome)
            except RuntimeError:  # the loop has closed (the process is stopping): nobody waits any more
                pass
            del loop, future, function, args, outcome  # nothing of a finished call stays alive here
