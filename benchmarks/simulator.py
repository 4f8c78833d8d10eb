"""Simulator: CPU use of an idle simulated fob (display on / off) and start-up time to the first frame."""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FOB = str(Path(sys.executable).with_name("fob"))
MEASURE_SECONDS = 5.0


def _start(directory, *options, display=None):
    command = [FOB, "sim", "--json-events", "--demo", "--dir", directory, *options]
    env = dict(os.environ)
    if display:
        env["DISPLAY"] = display
    else:
        command.append("--headless")
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )


def _wait_for(process, kind, **match):
    for line in process.stdout:
        event = json.loads(line)
        if event["event"] == kind and all(event.get(k) == v for k, v in match.items()):
            return event
    raise RuntimeError("the simulator exited before a %s event" % kind)


def _cpu_seconds(pid):
    """CPU time of all the process's threads, in nanosecond resolution (schedstat)."""
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, task)) as f:
            total += int(f.read().split()[0])
    return total / 1e9


def _idle_cpu_percent(display_timeout, kind, display=None, **match):
    with tempfile.TemporaryDirectory() as directory:
        process = _start(directory, "--display-timeout", str(display_timeout), display=display)
        try:
            _wait_for(process, kind, **match)
            before, started = _cpu_seconds(process.pid), time.monotonic()
            time.sleep(MEASURE_SECONDS)
            used = _cpu_seconds(process.pid) - before
            return 100 * used / (time.monotonic() - started)
        finally:
            process.terminate()
            process.wait()


def _startup_seconds():
    with tempfile.TemporaryDirectory() as directory:
        started = time.monotonic()
        process = _start(directory)
        try:
            _wait_for(process, "display", on=True)
            return time.monotonic() - started
        finally:
            process.terminate()
            process.wait()


def main():
    on = _idle_cpu_percent(3600, "code")
    off = _idle_cpu_percent(1, "display", on=False)
    print("idle simulated fob CPU, display on: %.2f%% of one core (target < 3%%)" % on)
    print("idle simulated fob CPU, display off: %.2f%% of one core (target < 1%%)" % off)
    if shutil.which("Xvfb"):
        server = subprocess.Popen(["Xvfb", ":93", "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
        time.sleep(1)
        try:
            on = _idle_cpu_percent(3600, "code", display=":93")
            off = _idle_cpu_percent(1, "display", display=":93", on=False)
        finally:
            server.terminate()
            server.wait()
        print("  with the Tk window (Xvfb): display on %.2f%%, display off %.2f%%" % (on, off))
    startups = [_startup_seconds() for _ in range(3)]
    print(
        "start-up to first rendered frame, headless: median %.3f s, best %.3f s (target < 1 s)"
        % (statistics.median(startups), min(startups))
    )
