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
PSKC imports, rare and long, keep a plain executor.

Unlike an executor's, the threads are not waited for when the interpreter
exits: a call still running then is abandoned, and each call is one
database transaction, which the database rolls back.
"""

import asyncio
import queue
import threading
import weakref

_STOP = None


def _settle(future, succeeded, outcome):
    if not future.cancelled():  # the request was given up (its client went away) while the call ran
        if succeeded:
            future.set_result(outcome)
        else:
            future.set_exception(outcome)


def _serve(calls):
    for loop, future, function, args in iter(calls.get, _STOP):
        if not future.cancelled():  # given up before it started: a verification nobody awaits uses no code
            _run(loop, future, function, args)
        del loop, future, function, args  # nothing of a finished call stays alive while the thread waits


def _run(loop, future, function, args):
    try:
        outcome, succeeded = function(*args), True
    except BaseException as error:  # the caller's to handle, as an executor would pass it on
        # The traceback starts in ``function``: a report that shows frames' variables shows the caller's own.
        outcome, succeeded = error.with_traceback(error.__traceback__.tb_next), False
    try:
        loop.call_soon_threadsafe(_settle, future, succeeded, outcome)
    except RuntimeError:  # the loop has closed (the process is stopping): nobody waits any more
        pass


class Handoff:
    """``await handoff.call(function, *args)``: ``function(*args)`` on one of ``threads`` daemon threads
    named ``name``, its value or exception back on the caller's event loop; calls beyond ``threads``
    wait in order, and a call whose caller gave up before it started is dropped.  The threads end when
    the Handoff is no longer referenced (an app that is gone)."""

    def __init__(self, threads, name):
        self._calls = queue.SimpleQueue()
        for number in range(threads):
            threading.Thread(target=_serve, args=(self._calls,), name="%s_%d" % (name, number), daemon=True).start()
        weakref.finalize(self, _stop, self._calls, threads)

    def call(self, function, *args):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._calls.put((loop, future, function, args))
        return future


def _stop(calls, threads):
    for _ in range(threads):
        calls.put(_STOP)
