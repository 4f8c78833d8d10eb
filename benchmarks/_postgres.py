"""What the PostgreSQL runs of benchmarks/server.py measure beside the service: the pgbench ceiling of the
acceptance statement on the same cluster, and the postmaster whose processes' CPU time is counted."""

import re
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from fobauth import acceptance, pgcluster

# The acceptance statement's parameters for pgbench: each client consumes steps of its own token (user
# and token ids are 1..N in the benchmark's provisioning), a strictly increasing microsecond clock as step.
_PGBENCH_VALUES = {
    "user_pk": ":client + 1",
    "token_pk": ":client + 1",
    "step": "(extract(epoch from clock_timestamp()) * 1000000)::bigint",
    "drift": "0",
    "drift_lo": "NULL",
    "drift_hi": "NULL",
    "drift_at": "NULL",
    "previous_drift": "NULL",
    "resync_step": "NULL",
    "audit_at": "0",
    "audit_event": "'verify'",
    "audit_actor": "'bench'",
    "audit_subject": "'bench'",
    "audit_serial": "'00000000'",
}


def acceptance_script():
    """fobauth.acceptance.ACCEPT_IN_ONE as a pgbench script."""
    compiled = acceptance.ACCEPT_IN_ONE.compile(dialect=postgresql.psycopg.dialect())
    constants = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}

    def value(match):
        name = match.group(1)
        if name in constants:
            return "'%s'" % str(constants[name]).replace("'", "''")
        return "(%s)" % _PGBENCH_VALUES[name]

    sql = re.sub(r"%\((\w+)\)s", value, str(compiled))
    return "\\set client :client_id\n" + " ".join(sql.split()) + ";\n"


def pgbench(url, clients, seconds):
    """Transactions per second of the acceptance statement alone, from ``clients`` pgbench clients."""
    bindir = pgcluster.find_bindir()
    parsed = make_url(url)
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "accept.sql"
        script.write_text(acceptance_script())
        argv = [str(bindir / "pgbench"), "-n", "-M", "prepared", "-f", str(script), "-c", str(clients), "-j", "2"]
        argv += ["-T", str(seconds), "-h", parsed.host, "-p", str(parsed.port), "-U", parsed.username]
        output = subprocess.run([*argv, parsed.database], capture_output=True, text=True, check=True).stdout
    engine = create_engine(url)
    with engine.connect() as conn:
        refused = conn.execute(text("SELECT count(*) FROM audit_events WHERE actor = 'bench' AND result <> 'ok'"))
        if refused.scalar_one():
            raise AssertionError("pgbench's acceptance statements were not all accepted")
    engine.dispose()
    return float(re.search(r"tps = ([0-9.]+)", output).group(1))


def postmaster_pid(url):
    """The pid of the cluster's postmaster (first line of postmaster.pid in its data directory)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        data = conn.execute(text("SELECT current_setting('data_directory')")).scalar_one()
    engine.dispose()
    return int(Path(data, "postmaster.pid").read_text().split()[0])
