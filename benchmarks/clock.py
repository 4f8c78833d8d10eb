"""How exactly the desk sets a fob's clock: the residual offset after SET-TIME, on both simulator engines.

Each round sets a blank simulated fob's clock the way `fob provision`
does (the next whole second, sent to arrive as that second begins) and,
for comparison, the way it did before (host time truncated to a whole
second, sent at once).  The true offset comes from the simulated RTC
itself (its clock.json anchor, written as the fob sets it); the offset
`fob info` shows (INFO with milliseconds) is printed beside it.  The
target is ±50 ms on a pty.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fobhost import provisioning, syncing
from fobhost.serialclient import DeviceClient

FOB = str(Path(sys.executable).with_name("fob"))
ROUNDS = 10
TARGET_MS = 50


def _start(directory, engine):
    command = [FOB, "sim", "--json-events", "--headless", "--blank", "--engine", engine, "--dir", directory]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    for line in process.stdout:
        event = json.loads(line)
        if event["event"] == "ready":
            return process, event["port"]
    raise RuntimeError("fob sim --engine %s did not start" % engine)


def _true_offset(clock_file, since):
    """The simulated RTC's offset from host time once it was set after ``since`` (its file's mtime)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if os.path.exists(clock_file) and os.stat(clock_file).st_mtime_ns > since:
            state = json.loads(Path(clock_file).read_text())
            return state["anchor_fob"] - state["anchor_host"]
        time.sleep(0.01)
    raise RuntimeError("the simulated RTC was not set")


def _round(client, clock_file, aimed):
    since = os.stat(clock_file).st_mtime_ns if os.path.exists(clock_file) else 0
    time.sleep(0.2 + (time.time() % 1) * 0.5)  # start anywhere in a second
    if aimed:
        provisioning.at_next_second(client, "SET-TIME", lambda second: {"time": second})
    else:
        client.request("SET-TIME", {"time": int(time.time())})
    truth = _true_offset(clock_file, since)
    info = client.request("INFO")
    shown, _ = syncing.offset(info, time.time(), client.round_trip)
    return truth, shown


def measure(engine):
    """{"aimed": [(true, shown)...], "truncated": [...]} offsets in seconds for ``engine``."""
    with tempfile.TemporaryDirectory(prefix="fob-bench-clock-") as directory:
        process, port = _start(directory, engine)
        try:
            if engine == "micropython":
                subprocess.run([FOB, "flash", "--board", "sim", "--port", port], check=True, capture_output=True)
            clock_file = os.path.join(directory, "clock.json")
            with DeviceClient(port) as client:
                client.request("INFO")
                return {
                    way: [_round(client, clock_file, way == "aimed") for _ in range(ROUNDS)]
                    for way in ("aimed", "truncated")
                }
        finally:
            process.terminate()
            process.wait()


def _ms(values):
    worst = max(values, key=abs)
    return "median %+6.1f ms, worst %+7.1f ms" % (statistics.median(values) * 1000, worst * 1000)


def main():
    for engine in ("cpython", "micropython"):
        results = measure(engine)
        for way, label in (("aimed", "at the second boundary"), ("truncated", "truncated, sent at once (before)")):
            truths = [truth for truth, _ in results[way]]
            shown = [seen for _, seen in results[way]]
            met = all(abs(t) * 1000 <= TARGET_MS for t in truths)
            print("%-11s SET-TIME %-33s true %s  %s" % (engine, label, _ms(truths), "met" if met else "MISSED"))
            print("%-11s %-42s shown %s" % ("", "(fob info's estimate)", _ms(shown)))
        print("%-11s %d rounds each; target +-%d ms" % ("", ROUNDS, TARGET_MS))


if __name__ == "__main__":
    main()
