"""A PostgreSQL server that drops the service's connections (a restart, a failover) costs no request."""

import pytest
from sqlalchemy import text

from fobauth.database import make_engine


@pytest.mark.parametrize("fast_path", [True, False])
def test_verification_survives_dropped_connections(make_bank, postgres_url, fast_path):
    bank = make_bank(postgres_url, fast_path=fast_path)
    bank.registered("alice")
    bank.registered("bob", serial="87654321")
    bank.service.verify("alice", bank.code("12345678"))  # the pool now holds a live connection
    killer = make_engine(postgres_url)
    with killer.begin() as conn:
        dropped = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    killer.dispose()
    assert dropped >= 1
    bank.service.verify("bob", bank.code("87654321"))
    assert bank.service.status("bob").failures == 0
