"""A `fob sim` process under test: started with --json-events, its events read with deadlines."""

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

FOB = str(Path(sys.executable).with_name("fob"))


def fob(*args, check=True):
    """Run a `fob` subcommand as a user would; return its completed process."""
    done = subprocess.run([FOB, *map(str, args)], capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError("fob %s failed (%d):\n%s%s" % (args[0], done.returncode, done.stdout, done.stderr))
    return done


class SimProcess:
    def __init__(self, directory, *options, env=None, headless=True):
        command = [FOB, "sim", "--json-events", "--dir", str(directory), *map(str, options)]
        if headless:
            command.append("--headless")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self._events = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self.next_event("ready")
        self.port = self.ready["port"]

    def _read(self):
        for line in self.process.stdout:
            self._events.put(json.loads(line))
        self._events.put(None)

    def next_event(self, kind, timeout=20, **match):
        """The next event of ``kind`` (whose fields equal ``match``), skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = self._events.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                raise AssertionError("no %r event %r within %s s" % (kind, match, timeout)) from None
            if event is None:
                raise AssertionError("the simulator exited: %s" % self.process.stderr.read())
            if event["event"] == kind and all(event.get(k) == v for k, v in match.items()):
                return event

    def pending_events(self):
        """Events received but not yet consumed."""
        events = []
        while not self._events.empty():
            event = self._events.get()
            if event is not None:
                events.append(event)
        return events

    def press(self):
        self.process.stdin.write("\n")
        self.process.stdin.flush()

    def send(self, cmd, **fields):
        """One command on the control channel (docs/simulator.md)."""
        self.process.stdin.write(json.dumps({"cmd": cmd, **fields}) + "\n")
        self.process.stdin.flush()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
