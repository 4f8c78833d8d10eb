"""The verification hot path (fobauth.hotpath): a right, fresh code is accepted on the driver's connection,
audited and committed with the failure reset; everything else leaves it to the general path unchanged."""

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


@pytest.mark.parametrize(
    "situation, refusal",
    [
        ("wrong code", errors.InvalidCode),
        ("replayed code", errors.Replayed),
        ("malformed code", errors.BadCode),
        ("suspended user", errors.Suspended),
        ("expired token", errors.Expired),
        ("no token", errors.NotRegistered),
        ("unknown user", errors.UnknownUser),
    ],
)
def test_everything_else_is_decided_and_audited_by_the_general_path(make_bank, situation, refusal):
    bank = make_bank(max_failures=2)
    bank.add_token("12345678", expiry=bank.clock.now + 10 * bank.PERIOD)
    bank.registered("alice")
    bank.user("bob")
    user, code = "alice", bank.code("12345678")
    if situation == "wrong code":
        code = "000000" if code != "000000" else "111111"
    elif situation == "replayed code":
        bank.service.verify("alice", code)
    elif situation == "malformed code":
        code = "12345x"
    elif situation == "suspended user":
        wrong = "000000" if code != "000000" else "111111"
        with pytest.raises(errors.InvalidCode):
            bank.service.verify("alice", wrong)
        with pytest.raises(errors.Suspended):
            bank.service.verify("alice", wrong)
    elif situation == "expired token":
        bank.clock.advance(10 * bank.PERIOD)
        code = bank.code("12345678")
    elif situation == "no token":
        user = "bob"
    else:
        user = "nobody"
    before = token_state(bank.service.engine, "12345678")
    with general_path_statements(bank.service.engine) as statements, pytest.raises(refusal):
        bank.service.verify(user, code)
    assert statements  # the general path ran, and nothing was consumed
    assert token_state(bank.service.engine, "12345678") == before
    if user != "nobody":
        assert audit_trail(bank.service.engine, user)[-1][:2] == ("verify", refusal.code)
