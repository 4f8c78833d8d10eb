"""A hostile upload against `fob serve` on PostgreSQL: the verifications per second of the other
clients (wrk, as in benchmarks/server.py) without and during a 300 MB unauthenticated POST, their
ratio (target: at least 80 %), and how much the server's worker processes grew meanwhile.  Quiet and
hostile runs take turns, HTTP_RUNS of each, and their medians are compared: each wrk run opens its
connections anew, and how uvicorn's workers share them out moves a run's rate more than the upload.

The uploader sends as fast as the loopback takes it, reconnecting whenever the server hangs up
(it answers 401 before reading a body without the API key), until 300 MB are offered or wrk ends.
"""

import socket
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import _proc
from benchmarks.server import (
    HTTP_CLIENTS,
    HTTP_RUNS,
    RUN_USERS,
    database,
    measured_run,
    median,
    provisioned,
    serving,
    verify_requests,
    warm_up,
)
from fobauth import pgcluster

UPLOAD_BYTES = 300 << 20
BLOCK = b" " * (1 << 20)


def upload(port, stop, offered):
    """Offer UPLOAD_BYTES of body to POST /api/v1/users without a key; ``offered`` gets the byte count
    and the number of connections it took."""
    while offered["bytes"] < UPLOAD_BYTES and not stop.is_set():
        remaining = UPLOAD_BYTES - offered["bytes"]
        head = "POST /api/v1/users HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        head += "Content-Length: %d\r\n\r\n" % remaining
        offered["connections"] += 1
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
                connection.sendall(head.encode())
                while offered["bytes"] < UPLOAD_BYTES and not stop.is_set():
                    connection.sendall(BLOCK)
                    offered["bytes"] += len(BLOCK)
        except OSError:
            pass  # the server hung up: connect again


def run(url, directory):
    seeds = provisioned(url, HTTP_CLIENTS + 2 * HTTP_RUNS * RUN_USERS)
    quiet, hostile, uploaded, growth = [], [], [], 0
    with serving(url, directory) as (port, server_pid):
        requests = verify_requests(seeds, time.time())
        warm_up(port, requests[:HTTP_CLIENTS])
        runs = [requests[first : first + RUN_USERS] for first in range(HTTP_CLIENTS, len(requests), RUN_USERS)]
        offered = {"bytes": 0, "connections": 0}
        for quiet_set, hostile_set in zip(runs[::2], runs[1::2], strict=True):  # quiet and hostile by turns
            quiet.append(measured_run(port, quiet_set, directory, server_pid))
            pids = _proc.family(server_pid)
            before = {pid: _proc.memory(pid, "VmRSS") for pid in pids}
            for pid in pids:  # the peak (VmHWM) starts again from the present size
                Path("/proc/%d/clear_refs" % pid).write_text("5")
            stop, offered["bytes"] = threading.Event(), 0
            uploader = threading.Thread(target=upload, args=(port, stop, offered))
            uploader.start()
            hostile.append(measured_run(port, hostile_set, directory, server_pid))
            stop.set()
            uploader.join()
            uploaded.append(offered["bytes"])
            growth = max(growth, *(_proc.memory(pid, "VmHWM") - rss for pid, rss in before.items()))
    for label, measured in (("quiet", quiet), ("during the upload", hostile)):
        for number, (count, elapsed, _, p99, held, _) in enumerate(measured, 1):
            print(
                "%-44s %8.0f verifications/s   p99 %6.2f ms   clients per process %s"
                % (
                    "HTTP, PostgreSQL, %s, run %d" % (label, number),
                    count / elapsed,
                    p99 * 1e3,
                    "/".join(map(str, held)),
                )
            )
    megabytes = ", ".join("%d" % (count >> 20) for count in uploaded)
    print("  upload: MB offered in each hostile run: %s, %d connections in all" % (megabytes, offered["connections"]))
    print("  largest growth of a server process's peak RSS during an upload: %.1f MiB" % (growth / 2**20))
    quiet_rate, hostile_rate = (median(count / elapsed for count, elapsed, *_ in runs) for runs in (quiet, hostile))
    ratio = hostile_rate / quiet_rate
    print(
        "  target: at least 80%% of the throughput during the upload: %.0f%% (medians %.0f/s and %.0f/s), %s"
        % (100 * ratio, hostile_rate, quiet_rate, "met" if ratio >= 0.8 else "NOT met")
    )


def main():
    with tempfile.TemporaryDirectory() as scratch:
        try:
            with pgcluster.throwaway_cluster() as server:
                run(database(server, "upload"), Path(scratch))
        except pgcluster.PostgresUnavailable as error:
            print("skipped: %s" % error)


if __name__ == "__main__":
    main()
