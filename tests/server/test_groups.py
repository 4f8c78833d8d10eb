"""Verifications in groups (fobauth.service.check_many on PostgreSQL's fast path): one read and one
transaction for the group, the rules kept within it, and an error confined to the check that caused it."""

import concurrent.futures
import time

import psycopg
import pytest
from sqlalchemy import select, text

from fobauth import errors
from fobauth.schema import audit_events, tokens

from .test_hotpath import round_trips


def verify(user_id, code):
    return user_id, [code], "verify", False


def answers(outcomes):
    return [outcome if outcome is None else type(outcome) for outcome in outcomes]


def trail(engine, subjects):
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.subject, audit_events.c.event, audit_events.c.result)
            .where(audit_events.c.subject.in_(subjects), audit_events.c.event.in_(["verify", "lockout"]))
            .order_by(audit_events.c.id)
        )
        return [tuple(row) for row in rows]


def counted(engine, query):
    with engine.connect() as conn:
        return conn.execute(text(query)).scalar_one()


def last_step(engine, serial):
    with engine.connect() as conn:
        return conn.execute(select(tokens.c.last_step).where(tokens.c.serial == serial)).scalar_one()


@pytest.fixture
def bank(make_bank, postgres_url):
    return make_bank(postgres_url)


def test_one_code_sent_many_times_in_one_group_is_accepted_once(bank):
    bank.registered("alice")
    code = bank.code("12345678")
    outcomes = bank.service.check_many([verify("alice", code)] * 5)
    assert answers(outcomes) == [None] + [errors.Replayed] * 4
    assert trail(bank.service.engine, ["alice"]) == [("alice", "verify", "ok")] + [("alice", "verify", "replayed")] * 4


def test_users_sharing_a_token_in_one_group_take_its_step_once(bank):
    bank.registered("alice")
    bank.user("bob")
    bank.service.register("bob", "12345678", bank.code("12345678"))
    bank.clock.advance(bank.PERIOD)
    code = bank.code("12345678")
    assert answers(bank.service.check_many([verify("alice", code), verify("bob", code)])) == [None, errors.Replayed]


def test_wrong_codes_in_one_group_suspend_as_they_would_one_by_one(make_bank, postgres_url):
    bank = make_bank(postgres_url, max_failures=3)
    bank.registered("alice")
    outcomes = bank.service.check_many([verify("alice", "000000")] * 4)
    assert answers(outcomes) == [errors.InvalidCode, errors.InvalidCode, errors.Suspended, errors.Suspended]
    assert trail(bank.service.engine, ["alice"]) == [
        ("alice", "verify", "invalid_code"),
        ("alice", "verify", "invalid_code"),
        ("alice", "verify", "invalid_code"),
        ("alice", "lockout", "suspended"),
        ("alice", "verify", "suspended"),
    ]


def test_a_group_is_one_read_and_one_write_whatever_its_size(bank):
    """One SELECT for the users, then every check's one write sent at once and committed together as
    one transaction (one xmin on every audit row it wrote), none through SQLAlchemy."""
    serials = ["%08d" % (20_000_000 + n) for n in range(7)]
    for n, serial in enumerate(serials):
        bank.registered("user%d" % n, serial)
    checks = [verify("user%d" % n, bank.code(serial)) for n, serial in enumerate(serials[:6])]
    checks += [verify("user6", "000000"), verify("nobody", "123456")]
    with round_trips(bank.service.engine) as general:
        outcomes = bank.service.check_many(checks)
    assert general == []  # nothing went through SQLAlchemy
    assert answers(outcomes) == [None] * 6 + [errors.InvalidCode, errors.UnknownUser]
    with bank.service.engine.connect() as conn:
        transactions = conn.execute(text("SELECT count(DISTINCT xmin::text) FROM audit_events WHERE event = 'verify'"))
        assert transactions.scalar_one() == 1


def poison(bank):
    """From now on the database refuses, with an error, any audit row about the user "poison"."""
    with bank.service.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER poison BEFORE INSERT ON audit_events FOR EACH ROW "
                "WHEN (NEW.subject = 'poison') EXECUTE FUNCTION refuse_poison()"
            )
        )


def test_a_database_error_in_one_check_is_that_checks_alone(bank):
    """The group's transaction is rolled back whole, then each check runs on its own: the others are
    answered and written once, the one that failed gets the database's error and nothing of it is kept."""
    bank.registered("alice", "11111111")
    bank.registered("poison", "22222222")
    bank.registered("carol", "33333333")
    poison(bank)
    before = last_step(bank.service.engine, "22222222")
    checks = [verify(user, bank.code(serial)) for user, serial in [("alice", "11111111"), ("poison", "22222222")]]
    checks.append(verify("carol", bank.code("33333333")))
    outcomes = bank.service.check_many(checks)
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], psycopg.errors.RaiseException)
    assert trail(bank.service.engine, ["alice", "poison", "carol"]) == [
        ("alice", "verify", "ok"),
        ("carol", "verify", "ok"),
    ]
    assert last_step(bank.service.engine, "22222222") == before


def test_a_seed_the_key_cannot_open_is_that_checks_error_alone(bank):
    bank.registered("alice", "11111111")
    bank.registered("bob", "22222222")
    with bank.service.engine.begin() as conn:
        conn.execute(tokens.update().where(tokens.c.serial == "22222222").values(sealed_seed=b"\0" * 48))
    outcomes = bank.service.check_many([verify("alice", bank.code("11111111")), verify("bob", bank.code("22222222"))])
    assert outcomes[0] is None
    assert type(outcomes[1]).__name__ == "SeedKeyError"
    assert trail(bank.service.engine, ["alice", "bob"]) == [("alice", "verify", "ok")]


def test_checks_of_one_token_in_a_group_are_decided_one_after_the_other(bank):
    """As one by one: alice's code, a step ahead, moves the token's learnt position, and bob's, two steps
    ahead, is then inside the window.  Decided both from the state read before the first, bob's would be
    wrong; the second waits for a group of its own, read after the first committed."""
    bank.registered("alice")
    bank.user("bob")
    bank.service.register("bob", "12345678", bank.code("12345678"))
    bank.clock.advance(bank.PERIOD)
    checks = [verify("alice", bank.code("12345678", steps=1)), verify("bob", bank.code("12345678", steps=2))]
    assert bank.service.check_many(checks) == [None, None]


def test_a_failed_group_leaves_no_connection_that_fails_later(make_bank, postgres_url):
    """psycopg prepares a statement on its sixth use; in a group whose transaction failed the server
    skipped that Parse, so the connection goes, and the next checks are answered as ever."""
    bank = make_bank(postgres_url)
    bank.registered("alice", "11111111")
    bank.registered("poison", "22222222")
    for _ in range(5):
        assert bank.service.check_many([verify("alice", bank.code("11111111"))]) == [None]
        bank.clock.advance(bank.PERIOD)
    poison(bank)
    outcomes = bank.service.check_many([verify("poison", "000000"), verify("alice", bank.code("11111111"))])
    assert isinstance(outcomes[0], psycopg.errors.RaiseException) and outcomes[1] is None
    for _ in range(3):
        bank.clock.advance(bank.PERIOD)
        assert bank.service.check_many([verify("alice", bank.code("11111111"))]) == [None]


def test_an_id_the_database_cannot_read_is_that_checks_error_alone(bank):
    """A NUL, which PostgreSQL refuses in text: the group's read fails, and its checks run on their own
    (the API refuses such ids before: tests/server/test_api.py)."""
    bank.registered("alice")
    outcomes = bank.service.check_many([verify("ev\0il", "123456"), verify("alice", bank.code("12345678"))])
    assert isinstance(outcomes[0], psycopg.DataError) and outcomes[1] is None


def test_two_groups_that_deadlock_are_settled_and_each_code_is_accepted_once(bank):
    """Two groups take the same two tokens in opposite orders, each holding the first while it waits for
    the second (audit rows slowed by a trigger): PostgreSQL ends one group, whose checks then run one by
    one.  Each code is accepted once and refused once as a replay, nothing is counted twice."""
    bank.registered("alice", "11111111")
    bank.registered("bob", "22222222")
    with bank.service.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION slow_audit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER slow BEFORE INSERT ON audit_events FOR EACH ROW "
                "WHEN (NEW.event = 'verify') EXECUTE FUNCTION slow_audit()"
            )
        )
    deadlocks = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    before = counted(bank.service.engine, deadlocks)
    alice, bob = verify("alice", bank.code("11111111")), verify("bob", bank.code("22222222"))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        groups = [pool.submit(bank.service.check_many, order) for order in ([alice, bob], [bob, alice])]
        (a1, b1), (b2, a2) = (group.result(timeout=30) for group in groups)
    assert sorted(map(str, answers([a1, a2]))) == sorted(map(str, answers([None, errors.Replayed()])))
    assert sorted(map(str, answers([b1, b2]))) == sorted(map(str, answers([None, errors.Replayed()])))
    deadline = time.monotonic() + 10  # the ended backend reports its deadlock as it goes
    while counted(bank.service.engine, deadlocks) == before:
        assert time.monotonic() < deadline, "no deadlock happened: the test did not test"
        time.sleep(0.05)  # polling the statistics another backend flushes
    assert bank.service.status("alice").failures == 0 and bank.service.status("bob").failures == 0
