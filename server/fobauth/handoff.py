"""Blocking work handed from the event loop to a few threads, in groups, with less machinery than an executor.

Verification runs its database statements on a thread, one per pooled
connection, so that the event loop keeps reading and answering other
requests meanwhile.  A thread that comes free takes every verification
waiting by then, up to a limit, and runs them as one group: on PostgreSQL
one read and one transaction for all of them (fobauth.checks, check_many),
which costs the database and the driver a fraction per verification of
what one at a time did (docs/server-performance.md).  Under light load a
group holds one verification and waits for nothing.

``loop.run_in_executor`` would hand over one call at a time through
concurrent.futures: a second future, a lock and a condition per call, and
callbacks chaining one future to the other.  Here each group is settled on
its loop with one wake-up.  PSKC imports, rare and long, keep a plain
executor.

Unlike an executor's, the threads are not waited for when the interpreter
exits: a group still running then is abandoned, and each group is one
database transaction, which the database rolls back.
"""

import asyncio
import queue
import threading
import weakref

from fobauth import errors

_STOP = None


def _settle(settled, succeeded):
    for future, outcome in settled:
        if not future.cancelled():  # the request was given up (its client went away) while it ran
            if succeeded:
                future.set_result(outcome)
            else:
                future.set_exception(outcome)


def _waiting(calls, first, most):
    """``first`` and the calls waiting after it, at most ``most`` in all; whether a stop came among them."""
    group = [first]
    while len(group) < most:
        try:
            call = calls.get_nowait()
        except queue.Empty:
            break
        if call is _STOP:
            return group, True
        group.append(call)
    return group, False


def _serve(calls, function, most):
    for first in iter(calls.get, _STOP):
        group, stopping = _waiting(calls, first, most)
        group = [call for call in group if not call[1].cancelled()]  # given up before it started: not run
        if group:
            _run(function, group)
        del first, group  # nothing of a finished group stays alive while the thread waits
        if stopping:
            return


def _run(function, group):
    try:
        outcomes, succeeded = function([item for _, _, item in group]), True
        if len(outcomes) != len(group):
            raise ValueError("%d values for a group of %d" % (len(outcomes), len(group)))
    except BaseException as error:  # the callers' to handle, as an executor would pass it on
        # The traceback starts in ``function``: a report that shows frames' variables shows the callers' own.
        error = error.with_traceback(error.__traceback__.tb_next)
        outcomes, succeeded = errors.apiece(error, len(group)), False
    by_loop = {}
    for (loop, future, _), outcome in zip(group, outcomes, strict=True):
        by_loop.setdefault(loop, []).append((future, outcome))
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settled, succeeded)
        except RuntimeError:  # the loop has closed (the process is stopping): nobody waits any more
            pass


class Handoff:
    """``await handoff.call(item)``: ``function(items)`` on one of ``threads`` daemon threads named
    ``name``, for the items waiting when the thread came free (at most ``most`` of them), returning one
    value per item; each value comes back on its caller's event loop, and an exception ``function``
    raises to every caller of the group.  Items beyond the threads wait in order, and an item whose
    caller gave up before its group started is dropped.  The threads end when the Handoff is no
    longer referenced (an app that is gone)."""

    def __init__(self, threads, name, function, most):
        self._calls = queue.SimpleQueue()
        for number in range(threads):
            arguments = (self._calls, function, most)
            threading.Thread(target=_serve, args=arguments, name="%s_%d" % (name, number), daemon=True).start()
        weakref.finalize(self, _stop, self._calls, threads)

    def call(self, item):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._calls.put((loop, future, item))
        return future


def _stop(calls, threads):
    for _ in range(threads):
        calls.put(_STOP)
