"""A throwaway PostgreSQL cluster in a temporary directory, for tests, benchmarks and trying the service.

initdb and pg_ctl come from the Debian package postgresql.  PostgreSQL refuses
to run as root, so as root its tools run as the ``postgres`` user (runuser).
The cluster listens on a free loopback port and trusts local connections:
it is for throwaway data only.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(Exception):
    """PostgreSQL's server tools are missing or cannot be run here."""


def find_bindir():
    """The newest installed PostgreSQL's bin directory, or None."""
    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _as_postgres(argv):
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(argv, what):
    result = subprocess.run(_as_postgres(argv), capture_output=True, text=True)
    if result.returncode:
        raise PostgresUnavailable("%s failed: %s" % (what, (result.stderr or result.stdout).strip()[-500:]))


@contextlib.contextmanager
def throwaway_cluster(max_connections=200):
    """Start a cluster; yield its URL (database ``postgres``, user ``fob``); stop and delete it after."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable("initdb and pg_ctl not found (install the Debian package postgresql)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        raise PostgresUnavailable("running as root, and runuser is missing")
    root = Path(tempfile.mkdtemp(prefix="fobauth-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    options = "-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c max_connections=%d" % (
        port,
        root,
        max_connections,
    )
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-U", "fob", "--auth=trust", "-E", "UTF8"], "initdb")
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start"], "start")
        try:
            yield "postgresql+psycopg://fob@127.0.0.1:%d/postgres" % port
        finally:
            subprocess.run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
