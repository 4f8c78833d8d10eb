"""Every security event lands in the append-only audit table with who, whom, when and result —
and never a code or a seed."""

import base64
import contextlib

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from fobauth import errors
from fobauth.schema import audit_events


def trail(bank):
    with bank.service.engine.connect() as conn:
        return [row._asdict() for row in conn.execute(select(audit_events).order_by(audit_events.c.id))]


def test_each_kind_of_event_is_recorded_with_who_whom_when_result(bank):
    clock = bank.clock
    bank.add_token("12345678")
    bank.user("boss", role="master")
    bank.user("alice")
    bank.service.skip_registration("alice")
    bank.service.register("alice", "12345678", bank.code("12345678"))
    clock.advance(60)
    bank.service.verify("alice", bank.code("12345678"))
    for _ in range(5):
        with pytest.raises(errors.AuthError):
            bank.service.verify("alice", "000000" if bank.code("12345678") != "000000" else "111111")
    bank.service.unlock("boss", "alice", bank.CONFIRMATION)
    bank.service.revoke("boss", "alice", bank.CONFIRMATION)
    events = [(e["event"], e["actor"], e["subject"], e["result"]) for e in trail(bank)]
    assert events[:4] == [
        ("import", None, None, "ok"),
        ("create_user", None, "boss", "ok"),
        ("create_user", None, "alice", "ok"),
        ("skip", "alice", "alice", "ok"),
    ]
    assert events[4:7] == [
        ("register", "alice", "alice", "ok"),
        ("verify", "alice", "alice", "ok"),
        ("verify", "alice", "alice", "invalid_code"),
    ]
    assert events[10:] == [
        ("verify", "alice", "alice", "invalid_code"),
        ("lockout", "alice", "alice", "suspended"),
        ("unlock", "boss", "alice", "ok"),
        ("revoke", "boss", "alice", "ok"),
    ]
    assert all(e["at"] == clock.now for e in trail(bank)[5:])
    assert all(e["serial"] == "12345678" for e in trail(bank)[4:])


def test_refused_admin_actions_are_recorded(bank):
    bank.registered("alice")
    bank.user("clerk")
    with pytest.raises(errors.Forbidden):
        bank.service.revoke("clerk", "alice", bank.CONFIRMATION)
    assert trail(bank)[-1]["event"] == "revoke" and trail(bank)[-1]["result"] == "forbidden"


def test_no_code_or_seed_is_ever_written(bank):
    bank.registered("alice")
    used = [bank.code("12345678", step) for step in range(-1, 3)]
    for code in used + ["000000", "999999"]:  # accepted, replayed and wrong codes alike
        with contextlib.suppress(errors.AuthError):
            bank.service.verify("alice", code)
    key = bank.seeds["12345678"][0]
    forbidden = used + [key.hex(), base64.b32encode(key).decode(), base64.b64encode(key).decode()]
    with bank.service.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(select(audit_events)) for v in row)
    assert not [value for value in forbidden if value in dump]


def test_audit_rows_cannot_be_changed_or_deleted(make_bank, database_url):
    bank = make_bank(database_url)
    bank.registered("alice")
    for statement in (update(audit_events).values(result="ok"), delete(audit_events)):
        with pytest.raises(DBAPIError, match="append-only"):
            with bank.service.engine.begin() as conn:
                conn.execute(statement)
    if bank.service.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            with bank.service.engine.begin() as conn:
                conn.execute(text("TRUNCATE audit_events"))
    assert len(trail(bank)) == 3
