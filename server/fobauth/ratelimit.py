"""Token-bucket rate limits keyed by user or by source address, in memory, per service process."""

import collections
import threading
import time

from fobauth.settings import RATE_LIMIT_MAX_KEYS


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

    Memory is bounded without letting anyone reset a key's bucket: only buckets that have refilled
    completely are forgotten (a full bucket is the same as none), oldest first.  When ``max_keys``
    buckets are all still refilling, new keys are refused until the oldest one is full (fail closed);
    keys already known keep their own count.  Junk keys can thus delay new keys, never free a known one.
    """

    def __init__(self, rate, clock=time.monotonic, max_keys=RATE_LIMIT_MAX_KEYS):
        self.rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._buckets = collections.OrderedDict()  # key: (tokens, time), least recently used first
        self._lock = threading.Lock()

    def _tokens(self, bucket, now):
        tokens, then = bucket
        return min(self.rate.count, tokens + (now - then) * self.rate.count / self.rate.seconds)

    def _wait(self, tokens):
        return (1 - tokens) * self.rate.seconds / self.rate.count

    def acquire(self, key):
        """0 when the request may go ahead, else the seconds to wait before retrying."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop(key, None)
            if bucket is None:
                while self._buckets and self._tokens(next(iter(self._buckets.values())), now) >= self.rate.count:
                    self._buckets.popitem(last=False)
                if len(self._buckets) >= self._max_keys:
                    oldest = self._tokens(next(iter(self._buckets.values())), now)
                    return (self.rate.count - oldest) * self.rate.seconds / self.rate.count
                tokens = self.rate.count
            else:
                tokens = self._tokens(bucket, now)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0
            self._buckets[key] = (tokens, now)
            return self._wait(tokens)
