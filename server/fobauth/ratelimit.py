"""Token-bucket rate limits keyed by user or by source address, in memory, per service process."""

import collections
import threading
import time


class Rate:
    """``count`` requests per ``seconds``, with bursts of up to ``count``.  Parsed from "COUNT/SECONDS"."""

    def __init__(self, count, seconds):
        if count < 1 or seconds <= 0:
            raise ValueError("a rate needs a positive count and period")
        self.count = count
        self.seconds = seconds

    @classmethod
    def parse(cls, text):
        count, _, seconds = text.partition("/")
        try:
            return cls(int(count), float(seconds or 1))
        except ValueError:
            raise ValueError("a rate is COUNT/SECONDS, such as 10/60, not %r" % text) from None

    def __str__(self):
        return "%d/%g" % (self.count, self.seconds)


class RateLimiter:
    """Allows a key ``rate.count`` requests at once, refilled evenly over ``rate.seconds``.

    The least recently seen keys are forgotten beyond ``max_keys``, so hostile
    callers inventing keys cannot grow memory without bound.
    """

    def __init__(self, rate, clock=time.monotonic, max_keys=100_000):
        self.rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._buckets = collections.OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, key):
        """0 when the request may go ahead, else the seconds to wait before retrying."""
        rate = self.rate
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (rate.count, now))
            tokens = min(rate.count, tokens + (now - then) * rate.count / rate.seconds)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                wait = 0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1 - tokens) * rate.seconds / rate.count
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        return wait
