"""A hostile upload against `fob serve` on PostgreSQL: the verifications per second of the other
clients (wrk, as in benchmarks/server.py) without and during a 300 MB unauthenticated POST, their
ratio (target: at least 80 %), and how much the server's worker processes grew meanwhile.

The uploader sends as fast as the loopback takes it, reconnecting whenever the server hangs up
(it answers 401 before reading a body without the API key), until 300 MB are offered or wrk ends.
"""

import socket
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import _proc
from benchmarks.server import HTTP_CLIENTS, HTTP_USERS, database, provisioned, serving, verify_requests, warm_up, wrk
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
    seeds = provisioned(url, HTTP_USERS)
    with serving(url, directory) as (port, server_pid):
        requests = verify_requests(seeds, time.time())
        warm_up(port, requests[:HTTP_CLIENTS])
        half = (len(requests) - HTTP_CLIENTS) // 2
        quiet_set, hostile_set = requests[HTTP_CLIENTS : HTTP_CLIENTS + half], requests[HTTP_CLIENTS + half :]
        quiet = wrk(port, quiet_set, directory)
        pids = _proc.family(server_pid)
        stop, offered = threading.Event(), {"bytes": 0, "connections": 0}
        before = {pid: _proc.memory(pid, "VmRSS") for pid in pids}
        for pid in pids:  # the peak (VmHWM) starts again from the present size
            Path("/proc/%d/clear_refs" % pid).write_text("5")
        uploader = threading.Thread(target=upload, args=(port, stop, offered))
        uploader.start()
        hostile = wrk(port, hostile_set, directory)
        stop.set()
        uploader.join()
        growth = max((_proc.memory(pid, "VmHWM") - rss for pid, rss in before.items()), default=0)
    quiet_rate, hostile_rate = quiet[0] / quiet[1], hostile[0] / hostile[1]
    for label, (_, _, failed, _, p99), rate in (
        ("quiet", quiet, quiet_rate),
        ("during the upload", hostile, hostile_rate),
    ):
        line = "%-44s %8.0f verifications/s   p99 %6.2f ms   %d failed" % (
            "HTTP, PostgreSQL, " + label,
            rate,
            p99 * 1e3,
            failed,
        )
        print(line)
    print("  upload: %d MB offered over %d connections" % (offered["bytes"] >> 20, offered["connections"]))
    print("  largest growth of a server process's peak RSS during the upload: %.1f MiB" % (growth / 2**20))
    ratio = hostile_rate / quiet_rate
    print(
        "  target: at least 80%% of the throughput during the upload: %.0f%%, %s"
        % (100 * ratio, "met" if ratio >= 0.8 else "NOT met")
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
