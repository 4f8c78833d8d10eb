"""Processes as the benchmarks see them, read from /proc: a process with its descendants (`fob serve` and
its workers, the postmaster and its backends, the VM board), their CPU time and their memory."""

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def family(pid):
    """The process ``pid`` and its living descendants."""
    found, waiting = [], [pid]
    while waiting:
        found.append(waiting.pop())
        try:
            tasks = list(Path("/proc/%d/task" % found[-1]).iterdir())
            waiting += [int(child) for task in tasks for child in (task / "children").read_text().split()]
        except FileNotFoundError:  # it ended meanwhile
            found.pop()
    return found


def cpu_seconds(pid):
    """User and system CPU seconds of the process so far (0 once it is gone)."""
    try:
        fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def tree_cpu(root):
    """CPU seconds used so far by process ``root`` and its living descendants."""
    return sum(cpu_seconds(pid) for pid in family(root))


def memory(pid, field):
    """A size from /proc/PID/status in bytes: VmRSS now, VmHWM the peak."""
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _established(port):
    """Socket inodes of the established TCP connections to local ``port`` (/proc/net/tcp, tcp6)."""
    inodes = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        lines = table.read_text().splitlines()[1:] if table.exists() else []  # tcp6: not without IPv6
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    return inodes


def connections(root, port):
    """{pid: connections it holds} for the established connections to ``port`` held by ``root`` and its
    descendants: how uvicorn's workers shared the clients out."""
    inodes, held = _established(port), {}
    for pid in family(root):
        try:
            links = [os.readlink(fd) for fd in Path("/proc/%d/fd" % pid).iterdir()]
        except OSError:  # it ended meanwhile
            continue
        count = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
        if count:
            held[pid] = count
    return held
