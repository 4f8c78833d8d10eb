"""Provisioning over a pty: seconds per fob and bytes exchanged, against what 115200 baud needs.

A pty ignores the baud rate, so the lower bound for a real USB-serial link
is computed from the bytes: 10 bits per byte (start, 8 data, stop) at
115200 baud.  The target is 2x that bound plus the device's record writes
(PROVISION and SEAL each replace the seed record), timed here on the same
Token the pty serves.  The device side's own work per fob is also timed
inside the MicroPython VM, where CRC, parsing and SHA-1 run as on a board.
"""

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from fobcore.board import Board
from fobcore.protocol import DeviceHandler
from fobcore.token import Token
from fobcore.wire import encode_frame, format_fields
from fobhost import provisioning
from fobhost.inventory import Inventory
from fobhost.ptydevice import PtyDevice
from fobhost.serialclient import DeviceClient

FOBS = 20
BAUD = 115200
BITS_PER_BYTE = 10
ROOT = Path(__file__).resolve().parents[1]
NOW = 1_800_000_000

# Serves each fob's frames to a fresh Token in the VM and times handle() per command.
VM_SCRIPT = """
import json, os, time
from fobcore.protocol import DeviceHandler
from fobcore.token import Token
from scriptboard import ScriptBoard

class BenchBoard(ScriptBoard):
    def free_bytes(self):
        return 0

frames = json.loads(open("/bench/frames.json").read())
times = {}
os.mkdir("/data")
for n in range(%d):
    handler = DeviceHandler(Token(BenchBoard(storage="/data/fob%%d" %% n)))
    for command, line in frames:
        start = time.ticks_us()
        reply = handler.handle(line.encode())
        times.setdefault(command, []).append(time.ticks_diff(time.ticks_us(), start))
        assert b" OK " in reply, reply
print(json.dumps(times))
"""


class BenchBoard(Board):
    """A board whose clock is the host's plus whatever SET-TIME said, storing in a directory."""

    name = "bench"

    def __init__(self, storage):
        self.storage = storage
        self.offset = None

    def time(self):
        return None if self.offset is None else int(time.time() + self.offset)

    def set_time(self, unix_seconds):
        self.offset = unix_seconds - time.time()

    def storage_dir(self):
        return self.storage

    def set_kbd_intr(self, enabled):
        pass


def record_write_seconds(root, rounds=50):
    """Median time of one seed-record write (what PROVISION and SEAL each cost the device)."""
    board = BenchBoard(os.path.join(root, "writes"))
    os.makedirs(board.storage, exist_ok=True)
    board.set_time(int(time.time()))
    token = Token(board)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        token.provision(b"k" * 20, "sha1", 6, 60, "12345678", int(time.time()) + 86400)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def _fob_frames():
    seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    provision = (("seed", seed), ("alg", "sha1"), ("digits", 6), ("period", 60))
    provision += (("serial", "1000000016"), ("expiry", NOW + 86400))
    commands = [("INFO", ()), ("SET-TIME", (("time", NOW),)), ("PROVISION", provision), ("CHECK", ()), ("SEAL", ())]
    return [[c, encode_frame(seq, format_fields(c, f))[:-1].decode()] for seq, (c, f) in enumerate(commands)]


def micropython_device():
    """Mean microseconds per command of the device side, inside the MicroPython VM.

    Means over all fobs, because the VM's clock ticks in whole milliseconds.
    """
    with tempfile.TemporaryDirectory(prefix="fob-bench-vm-") as folder:
        Path(folder, "frames.json").write_text(json.dumps(_fob_frames()))
        script = Path(folder, "bench.py")
        script.write_text(VM_SCRIPT % (FOBS * 5))
        command = ["node", str(ROOT / "tools/mpvm/run.mjs"), "--copy", "%s:/lib/fobcore" % (ROOT / "firmware/fobcore")]
        command += ["--copy", "%s:/lib" % (ROOT / "tests/firmware/vm"), "--copy", "%s:/bench" % folder, str(script)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    times = json.loads(done.stdout.splitlines()[-1])
    return {command: sum(values) / len(values) for command, values in times.items()}


def main():
    with tempfile.TemporaryDirectory(prefix="fob-bench-") as root:
        write = record_write_seconds(root)
        inventory = Inventory(os.path.join(root, "inventory.sqlite3"))
        total_bytes = 0
        elapsed = 0.0
        waits = []

        def sleep(seconds):  # the wait for the second boundary SET-TIME is aimed at: by design, not overhead
            waits.append(seconds)
            time.sleep(seconds)

        for number in range(FOBS):
            storage = os.path.join(root, "fob%d" % number)
            os.makedirs(storage)
            with PtyDevice(DeviceHandler(Token(BenchBoard(storage)))) as device:
                with DeviceClient(device.port) as client:
                    start = time.perf_counter()
                    provisioning.provision(client, inventory, sleep=sleep)
                    elapsed += time.perf_counter() - start
                    total_bytes += client.bytes_sent + client.bytes_received
        inventory.close()
    waited = sum(waits) / FOBS
    per_fob = elapsed / FOBS - waited
    bytes_per_fob = total_bytes / FOBS
    bound = bytes_per_fob * BITS_PER_BYTE / BAUD
    target = 2 * bound + 2 * write
    estimate = bound + per_fob  # a pty moves bytes at once: the measured time is all overhead
    print("fobs provisioned over a pty        %d" % FOBS)
    print("bytes exchanged per fob            %.0f (host and device together)" % bytes_per_fob)
    print("lower bound at %d baud         %.1f ms" % (BAUD, bound * 1000))
    print("seed-record write on this machine  %.2f ms (x2: PROVISION, SEAL)" % (write * 1000))
    print("measured per fob on the pty        %.1f ms (INFO to inventory record, without the wait)" % (per_fob * 1000))
    print("waiting for the second boundary    %.1f ms per fob on average (SET-TIME is aimed at it)" % (waited * 1000))
    print("estimate at %d baud            %.1f ms (bound + measured)" % (BAUD, estimate * 1000))
    print("target (2 x bound + record writes) %.1f ms: %s" % (target * 1000, "met" if estimate <= target else "MISSED"))
    device = micropython_device()
    print(
        "device side in the MicroPython VM  %.1f ms per fob (mean; %s)"
        % (sum(device.values()) / 1000, ", ".join("%s %.2f" % (c, us / 1000) for c, us in device.items()))
    )


if __name__ == "__main__":
    main()
