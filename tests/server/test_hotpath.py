"""The fast path (fobauth.hotpath): every verification, accepted or refused, runs on the driver's
connection, audited and committed with its change; the general path runs the same statements through
SQLAlchemy in at most 3 round trips (counted with SQLAlchemy's events)."""

import contextlib

import pytest
from sqlalchemy import event, select

from fobauth import errors
from fobauth.schema import audit_events, tokens


@contextlib.contextmanager
def general_path_statements(engine):
    """The statements run through SQLAlchemy (the general path) while the block runs."""
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def audit_trail(engine, subject):
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.event, audit_events.c.result, audit_events.c.actor, audit_events.c.serial)
            .where(audit_events.c.subject == subject)
            .order_by(audit_events.c.id)
        )
        return [tuple(row) for row in rows]


def token_state(engine, serial):
    with engine.connect() as conn:
        return tuple(conn.execute(select(tokens.c.last_step, tokens.c.drift).where(tokens.c.serial == serial)).one())


def test_a_right_fresh_code_takes_the_hot_path_and_is_audited(make_bank, database_url):
    bank = make_bank(database_url)
    bank.registered("alice")
    engine = bank.service.engine
    with general_path_statements(engine) as statements:
        bank.service.verify("alice", bank.code("12345678", steps=1))  # the token runs a step fast
    assert statements == []
    assert audit_trail(engine, "alice")[-1] == ("verify", "ok", "alice", "12345678")
    assert token_state(engine, "12345678") == (bank.clock.now // bank.PERIOD + 1, 1)  # step consumed, drift learnt
    with pytest.raises(errors.Replayed):
        bank.service.verify("alice", bank.code("12345678", steps=1))


def test_the_hot_path_resets_failures_in_the_same_commit(make_bank, database_url):
    bank = make_bank(database_url)
    bank.registered("alice")
    for _ in range(2):
        with pytest.raises(errors.InvalidCode):
            bank.service.verify("alice", "000000" if bank.code("12345678") != "000000" else "111111")
    assert bank.service.status("alice").failures == 2
    with general_path_statements(bank.service.engine) as statements:
        bank.service.verify("alice", bank.code("12345678"))
    assert statements == []
    assert bank.service.status("alice").failures == 0
    results = [result for event_name, result, *_ in audit_trail(bank.service.engine, "alice") if event_name == "verify"]
    assert results == ["invalid_code", "invalid_code", "ok"]


SITUATIONS = [
    ("wrong code", errors.InvalidCode),
    ("replayed code", errors.Replayed),
    ("malformed code", errors.BadCode),
    ("suspended user", errors.Suspended),
    ("expired token", errors.Expired),
    ("no token", errors.NotRegistered),
    ("unknown user", errors.UnknownUser),
    ("suspending code", errors.Suspended),
]


def set_up(make_bank, url, situation, **options):
    """A bank where verifying (user, code) meets ``situation``."""
    bank = make_bank(url, max_failures=2, **options)
    bank.add_token("12345678", expiry=bank.clock.now + 10 * bank.PERIOD)
    bank.registered("alice")
    bank.user("bob")
    user, code = "alice", bank.code("12345678")
    wrong = "000000" if code != "000000" else "111111"
    if situation == "wrong code":
        code = wrong
    elif situation == "replayed code":
        bank.service.verify("alice", code)
    elif situation == "malformed code":
        code = "12345x"
    elif situation in ("suspended user", "suspending code"):
        with pytest.raises(errors.InvalidCode):
            bank.service.verify("alice", wrong)
        code = wrong
        if situation == "suspended user":
            with pytest.raises(errors.Suspended):
                bank.service.verify("alice", wrong)
            code = bank.code("12345678")
    elif situation == "expired token":
        bank.clock.advance(10 * bank.PERIOD)
        code = bank.code("12345678")
    elif situation == "no token":
        user = "bob"
    else:
        user = "nobody"
    return bank, user, code


@pytest.mark.parametrize("situation, refusal", SITUATIONS)
def test_refusals_are_decided_and_audited_on_the_fast_path_too(make_bank, situation, refusal):
    bank, user, code = set_up(make_bank, None, situation)
    before = token_state(bank.service.engine, "12345678")
    with general_path_statements(bank.service.engine) as statements, pytest.raises(refusal):
        bank.service.verify(user, code)
    assert statements == []
    assert token_state(bank.service.engine, "12345678") == before  # nothing consumed
    if user != "nobody":
        assert audit_trail(bank.service.engine, user)[-1][:2] == (
            ("lockout", "suspended") if situation == "suspending code" else ("verify", refusal.code)
        )


@contextlib.contextmanager
def round_trips(engine):
    """The round trips to PostgreSQL while the block runs: statements, and BEGIN and COMMIT of
    transactions that are not in autocommit (psycopg sends BEGIN before the first statement; in autocommit
    it sends neither, and its rollback at the end is a no-op without a transaction)."""
    trips = []

    def statement(_conn, _cursor, sql, *_args):
        trips.append(sql.split()[0])

    def transaction(name):
        def record(conn):
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                trips.append(name)

        return record

    listeners = [("before_cursor_execute", statement), ("begin", transaction("BEGIN"))]
    listeners += [("commit", transaction("COMMIT")), ("rollback", transaction("ROLLBACK"))]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield trips
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


@pytest.mark.parametrize("situation, refusal", [*SITUATIONS, ("right code", None)])
def test_the_general_path_needs_at_most_3_round_trips(make_bank, postgres_url, situation, refusal):
    story = "replayed code" if situation == "right code" else situation
    bank, user, code = set_up(make_bank, postgres_url, story, fast_path=False)
    if situation == "right code":
        bank.clock.advance(bank.PERIOD)
        code = bank.code("12345678")
    with round_trips(bank.service.engine) as trips:
        if refusal:
            with pytest.raises(refusal):
                bank.service.verify(user, code)
        else:
            bank.service.verify(user, code)
    assert len(trips) <= 3, trips
    assert len(trips) == (1 if user == "nobody" else 2)  # the read, then one write
