"""A separate service process for the concurrency tests: verifies one code from many threads at once.

Usage: verify_worker.py URL USER_ID CODE THREADS NOW.  The seed key comes from FOB_SEED_KEY.  Prints
"ready" once connected, waits for a line on stdin, then prints the JSON count of each outcome.
"""

import collections
import json
import sys
import threading

from fobauth import errors
from fobauth.database import make_engine
from fobauth.seedbox import SeedBox, load_key
from fobauth.service import AuthService


def main(url, user_id, code, threads, now):
    engine = make_engine(url, pool_size=int(threads), max_overflow=0)
    service = AuthService(engine, SeedBox(load_key()), clock=lambda: int(now))
    service.status(user_id)  # connected and warm before the start signal
    barrier = threading.Barrier(int(threads) + 1)
    outcomes = collections.Counter()
    lock = threading.Lock()

    def attempt():
        barrier.wait()
        try:
            service.verify(user_id, code)
            result = "ok"
        except errors.AuthError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    workers = [threading.Thread(target=attempt) for _ in range(int(threads))]
    for worker in workers:
        worker.start()
    print("ready", flush=True)
    sys.stdin.readline()
    barrier.wait()
    for worker in workers:
        worker.join()
    print(json.dumps(outcomes), flush=True)
    engine.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:])
