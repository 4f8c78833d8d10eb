"""Keep-alive clients shared evenly among the worker processes of `fob serve --workers N`.

uvicorn's workers accept from one listening socket, and the first to wake takes a whole burst of
new connections, which then stay with it as long as they are kept alive: 32 clients connecting at
once were split anywhere from 16/16 to 31/1 (benchmarks/server.py prints the split), and the
clients of the fuller worker wait for half the machine.  So each worker publishes how many
connections it holds, one file per process in a directory `fob serve` makes for the purpose
(``settings.WORKER_COUNTS_ENV``); a worker holding more than one above the least busy other ends the
next connection it answers (``Connection: close``, which HTTP clients follow by reconnecting), until
the counts differ by at most one.  Where the reconnection lands is the kernel's choice, so it takes
a few rounds; a connection is moved only while the split is uneven.
"""

import functools
import os
import time

from fobauth import settings

LOOK_EVERY = 0.05  # seconds between two readings of the other workers' counts


class Counts:
    """This process's open connections, published in ``directory``, and the others' as last read."""

    def __init__(self, directory, pid=None):
        self._directory = directory
        self._pid = pid or os.getpid()
        self._mine = 0
        self._least_other = None  # None: no other worker seen
        self._looked = float("-inf")
        self._publish()  # none yet: the others share their clients with this one from its start

    def opened(self):
        self._mine += 1
        self._publish()

    def closed(self):
        self._mine -= 1
        self._publish()

    def crowded(self):
        """True when this process holds more than one connection above the least busy other worker:
        the connection being answered should then end.  Counted as moved until the next reading."""
        now = time.monotonic()
        if now - self._looked >= LOOK_EVERY:
            self._looked, self._least_other = now, self._read_least_other()
        if self._least_other is None or self._mine <= self._least_other + 1:
            return False
        self._least_other += 1
        return True

    def _publish(self):
        path = os.path.join(self._directory, str(self._pid))
        with open(path + ".new", "w") as out:
            out.write(str(self._mine))
        os.replace(path + ".new", path)

    def _read_least_other(self):
        counts = []
        for name in os.listdir(self._directory):
            if not name.isdigit() or int(name) == self._pid or not _alive(int(name)):
                continue
            try:
                with open(os.path.join(self._directory, name)) as source:
                    counts.append(int(source.read()))
            except (OSError, ValueError):  # it ended meanwhile, or is being replaced
                continue
        return min(counts, default=None)


def _alive(pid):
    try:
        os.kill(pid, 0)  # signal 0: asks only whether the process is there (and ours)
    except OSError:  # gone, or its number is now another user's process
        return False
    return True


@functools.cache
def worker_counts():
    """This process's Counts when `fob serve` shares its clients among workers, else None."""
    directory = os.environ.get(settings.WORKER_COUNTS_ENV)
    return Counts(directory) if directory else None
