"""Carrying out a verification decision (fobauth.decision) in the database: one set of statements.

A check reads the user with their token (one SELECT), decides in Python, then
records the decision.  Races between requests that decided at the same time
are settled by the writes, which are conditional: a step is consumed only
where ``last_step < step`` and the user, not suspended, still holds the
token (or, registering, holds none); failures are counted with
``failures = failures + 1``.

The writes come in two forms built from the same statements:

- **one statement** (PostgreSQL): data-modifying CTEs consume the step,
  reset the failures and write the audit row, or count the failure and write
  its audit rows (``in_one``); so a verification, accepted or refused, is two
  round trips.  The general path commits each write on its own (autocommit);
  the fast path sends the writes of a group of checks together and commits
  them as one transaction (fobauth.hotpath).
- **a sequence** (SQLite, where CTEs cannot modify data, and inside a larger
  transaction such as a registration): the same UPDATEs and the audit INSERT
  one after the other.

``writes_in_one`` alone decides which a check gets.  Each form runs on either
path: ``SqlSession`` (SQLAlchemy, the general path) or fobauth.hotpath (the
driver's connection with the SQL compiled once, the fast path).  A session
is a callable ``run(statement, params)`` returning (rows, rowcount), with
``in_one`` saying its form and ``read(user_id)`` the check's first statement;
a group reads its users with ``READ_MANY``.
"""

import contextlib

from sqlalchemy import ARRAY, String, and_, any_, bindparam, case, exists, or_, select, union_all, update
from sqlalchemy.exc import DBAPIError

from fobauth import audit
from fobauth import decision as decided
from fobauth.database import Dropped
from fobauth.schema import audit_events, tokens, users

TOKEN_COLUMNS = (
    tokens.c.serial,
    tokens.c.sealed_seed,
    tokens.c.algorithm,
    tokens.c.digits,
    tokens.c.period,
    tokens.c.expires_at,
    tokens.c.last_step,
    tokens.c.drift,
    tokens.c.drift_lo,
    tokens.c.drift_hi,
    tokens.c.drift_at,
    tokens.c.previous_drift,
    tokens.c.resync_step,
)
USER_COLUMNS = (
    users.c.id,
    users.c.user_id,
    users.c.customer_id,
    users.c.role,
    users.c.token_id,
    users.c.failures,
    users.c.suspended,
    users.c.cooldown_until,
)
_WITH_TOKENS = select(*USER_COLUMNS, *TOKEN_COLUMNS).select_from(
    users.outerjoin(tokens, users.c.token_id == tokens.c.id)
)
READ = _WITH_TOKENS.where(users.c.user_id == bindparam("user_id"))
READ_MANY = _WITH_TOKENS.where(users.c.user_id == any_(bindparam("user_ids", type_=ARRAY(String))))  # a group
COUNT_FAILURE = (
    update(users)
    .where(users.c.id == bindparam("user_pk"), users.c.suspended.is_(False))
    .values(failures=users.c.failures + 1, suspended=users.c.failures + 1 >= bindparam("max_failures"))
    .returning(users.c.suspended)
)
RESET_FAILURES = (
    update(users)
    .where(users.c.id == bindparam("user_pk"), users.c.suspended.is_(False), users.c.failures != 0)
    .values(failures=0)
)


def _consume(user_holds_token):
    """Take step :step as the token's last used one if it is later than the last one and the user, not
    suspended, satisfies ``user_holds_token``: of concurrent requests for one step exactly one changes a row."""
    return (
        update(tokens)
        .where(
            tokens.c.id == bindparam("token_pk"),
            tokens.c.last_step < bindparam("step"),
            exists().where(users.c.id == bindparam("user_pk"), users.c.suspended.is_(False), user_holds_token),
        )
        .values(
            last_step=bindparam("step"),
            drift=bindparam("drift"),
            drift_lo=bindparam("drift_lo"),
            drift_hi=bindparam("drift_hi"),
            drift_at=bindparam("drift_at"),
            previous_drift=bindparam("previous_drift"),
            resync_step=bindparam("resync_step"),
        )
    )


CONSUME = _consume(users.c.token_id == bindparam("token_pk"))
CONSUME_UNBOUND = _consume(  # registration: the user holds no token and is past any cool-down
    and_(users.c.token_id.is_(None), or_(users.c.cooldown_until.is_(None), users.c.cooldown_until <= bindparam("now")))
)
# Why a step the decision accepted was not consumed: another request was first.
LOST_RACE = case(
    (users.c.suspended, decided.SUSPENDED),
    (users.c.token_id.is_distinct_from(bindparam("token_pk")), decided.NOT_REGISTERED),
    else_=decided.REPLAYED,
)
LOST_RACE_UNBOUND = case(
    (users.c.suspended, decided.SUSPENDED),
    (users.c.token_id.is_not(None), "already_registered"),
    else_=decided.REPLAYED,
)


LOST_RACE_OF = {
    unbound: select(LOST_RACE_UNBOUND if unbound else LOST_RACE).where(users.c.id == bindparam("user_pk"))
    for unbound in (False, True)
}


def _accept_in_one():
    consumed = CONSUME.returning(tokens.c.id).cte("consumed")
    reset = RESET_FAILURES.where(select(consumed.c.id).exists()).cte("reset")
    outcome = case((select(consumed.c.id).exists(), decided.ACCEPTED), else_=LOST_RACE_OF[False].scalar_subquery())
    return audit.insert_selected(select(*audit.selected(result=outcome))).add_cte(reset)


def _count_in_one():
    counted = COUNT_FAILURE.cte("counted")
    rows = [
        select(*audit.selected(result=decided.WRONG)).select_from(counted),
        select(*audit.selected("lockout", decided.SUSPENDED)).select_from(counted).where(counted.c.suspended),
        select(*audit.selected(result=decided.SUSPENDED)).where(~select(counted.c.suspended).exists()),
    ]
    return audit.insert_selected(union_all(*rows))


ACCEPT_IN_ONE = _accept_in_one()
COUNT_IN_ONE = _count_in_one()
RECORD_IN_ONE = audit.INSERT.returning(audit_events.c.result)  # a refusal that changes nothing else


def writes_in_one(dialect):
    """The session mode of a check, decided here only: on PostgreSQL each write is one statement in
    autocommit; on SQLite, whose CTEs cannot modify data, the sequence runs in one BEGIN IMMEDIATE
    transaction."""
    return dialect.name != "sqlite"


def _params(outcome, row, token, now, event, actor, policy, unbound):
    """The parameters of the statements that record ``outcome``."""
    params = {
        **audit.row(now, event, outcome.outcome, actor, row.user_id, token.serial if token is not None else None),
        "user_pk": row.id,
        "token_pk": row.token_id,
        "max_failures": policy.max_failures,
    }
    if outcome.outcome == decided.ACCEPTED:
        params.update(step=outcome.step, drift=outcome.drift, now=now)
        params.update(drift_lo=outcome.drift_lo, drift_hi=outcome.drift_hi, drift_at=outcome.drift_at)
        params.update(previous_drift=outcome.previous_drift, resync_step=outcome.resync_step)
        params["token_pk"] = token.token_id if unbound else row.token_id
    return params


def in_one(outcome, row, token, now, event, actor, policy):
    """The one statement, with its parameters, that records ``outcome`` (a Decision) for user ``row`` and
    ``token`` in the one-statement form; it returns the audit results it wrote, as ``record`` does."""
    params = _params(outcome, row, token, now, event, actor, policy, False)
    statement = {decided.ACCEPTED: ACCEPT_IN_ONE, decided.WRONG: COUNT_IN_ONE}.get(outcome.outcome, RECORD_IN_ONE)
    return statement, params


def results(rows):
    """The audit results a statement of ``in_one`` returned, as ``record`` returns them."""
    return [result for (result,) in rows]


def record(run, outcome, row, token, now, event, actor, policy, unbound=False):
    """Carry out ``outcome`` (a Decision) for user ``row`` and ``token`` (None when the user has none)
    through the session ``run``, in its form; returns the audit results written, the first being the
    answer (["ok"] when accepted; a wrong code that suspends writes ["invalid_code", "suspended"]).
    ``unbound``: a registration, whose binding (and its audit row) the caller writes next, always in
    the sequence form (inside the registration's transaction)."""
    if run.in_one and not unbound:
        return results(run(*in_one(outcome, row, token, now, event, actor, policy))[0])
    params = _params(outcome, row, token, now, event, actor, policy, unbound)
    if outcome.outcome == decided.ACCEPTED:
        if run(CONSUME_UNBOUND if unbound else CONSUME, params)[1]:
            if row.failures:
                run(RESET_FAILURES, params)
            if not unbound:
                run(audit.INSERT, params)
            return [decided.ACCEPTED]
        params[audit.RESULT] = run(LOST_RACE_OF[unbound], params)[0][0][0]
    elif outcome.outcome == decided.WRONG:
        counted = run(COUNT_FAILURE, params)[0]
        if not counted:
            params[audit.RESULT] = decided.SUSPENDED
        else:
            run(audit.INSERT, params)
            if not counted[0][0]:
                return [decided.WRONG]
            serial = token.serial if token is not None else None
            params.update(audit.row(now, "lockout", decided.SUSPENDED, actor, row.user_id, serial))
            run(audit.INSERT, params)
            return [decided.WRONG, decided.SUSPENDED]
    run(audit.INSERT, params)
    return [params[audit.RESULT]]


class SqlSession:
    """``run`` over a SQLAlchemy connection (the general path); ``in_one`` only on a connection in
    autocommit, never inside a larger transaction."""

    def __init__(self, conn, in_one=False):
        self._conn = conn
        self.in_one = in_one

    def __call__(self, statement, params):
        result = self._conn.execute(statement, params)
        return (result.all() if result.returns_rows else []), result.rowcount

    def read(self, user_id):
        try:
            return self._conn.execute(READ, {"user_id": user_id}).first()
        except DBAPIError as error:
            if error.connection_invalidated:  # before the check's first write
                raise Dropped(error) from None
            raise


@contextlib.contextmanager
def general_session(engine):
    """A session for one check through SQLAlchemy, in the form ``writes_in_one`` decides: autocommit (each
    write one statement and its own transaction), or one transaction (BEGIN IMMEDIATE: fobauth.database)."""
    if writes_in_one(engine.dialect):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield SqlSession(conn, in_one=True)
    else:
        with engine.begin() as conn:
            yield SqlSession(conn)
