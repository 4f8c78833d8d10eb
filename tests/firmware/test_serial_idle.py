"""The serial loop never spins: a fob whose USB line ended or hung up sleeps until bytes come.

The real main.py and the real USB serial driver (boards/drivers/usbserial.py)
on the unix port.  What is measured is behaviour, not speed: the CPU time
the fob's process uses over a few seconds of waiting is a small part of
the wall time (a spinning loop uses all of it), with a wide margin for a
loaded machine.
"""

import os
import subprocess
import time

import pytest
from flashimage import flash_unix_firmware, store_record

from mpvm import make_image, unix_command

WAIT_S = 1.5


def _cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@pytest.mark.parametrize("line", ["end of stream", "pty nobody holds", "host disconnects"])
def test_the_fob_sleeps_while_nobody_is_on_the_line(tmp_path, line):
    flash = tmp_path / "flash"
    flash_unix_firmware(flash)
    store_record(flash, sealed=True)
    make_image(tmp_path / "flash.img", [(flash, "/")])
    command = unix_command(256 * 1024, "boot", tmp_path / "flash.img")
    master = None
    if line == "end of stream":
        fob = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    else:
        master, slave = os.openpty()
        fob = subprocess.Popen(command, stdin=slave, stdout=slave)
        os.close(slave)  # from now on only the fob holds the line
        if line == "pty nobody holds":
            os.close(master)
    try:
        if line == "host disconnects":
            time.sleep(1)  # the fob is up and serving the host ...
            os.close(master)  # ... which goes away
        time.sleep(0.5)
        assert fob.poll() is None, "the fob stopped instead of waiting"
        wall, cpu = time.monotonic(), _cpu_seconds(fob.pid)
        time.sleep(WAIT_S)
        used = _cpu_seconds(fob.pid) - cpu
        assert fob.poll() is None
        assert used < 0.3 * (time.monotonic() - wall), "the fob spins: %.2f CPU seconds in %.1f s" % (used, WAIT_S)
    finally:
        fob.kill()
        fob.wait()
