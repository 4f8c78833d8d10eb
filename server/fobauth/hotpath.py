"""The common case of verification in as few database round trips as the dialect allows.

Nearly every verification is a right, fresh code from a registered,
unsuspended, unexpired token.  ``HotPath.accept`` handles that case alone,
on the driver's connection, with the service's Core statements compiled
once per dialect, so that no per-statement SQLAlchemy machinery runs (it
costs five times the SQL itself on SQLite):

- SQLite: BEGIN IMMEDIATE, the user-and-token SELECT, the conditional
  UPDATE consuming the step, the failure reset (only when there are
  failures), the audit INSERT, COMMIT: one write transaction.
- PostgreSQL, in autocommit mode: the SELECT, then one statement whose
  data-modifying CTEs consume the step, reset the failures and write the
  audit record: two round trips, the second its own transaction, committed
  with synchronous_commit on like every other.

A step is accepted only by the general path's conditional UPDATE, so
replay safety is exactly the same.  What this path does not accept it
leaves untouched, and the service's general path decides and audits the
refusal.
"""

import collections

from sqlalchemy import bindparam, insert, select

from fobauth.schema import audit_events, tokens, users

_AUDITED = ("at", "event", "result", "actor", "subject", "serial")


class _Compiled:
    """One statement rendered once for a dialect; binds a dict of parameters the way its driver wants,
    with the statement's own constants (such as ``failures != 0``) added."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._constants = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        self._names = tuple(compiled.positiontup) if dialect.positional else None

    def bind(self, params):
        params = {**self._constants, **params}
        return params if self._names is None else tuple(params[name] for name in self._names)


def _audit_columns():
    return [audit_events.c[name] for name in _AUDITED]


def _consume_reset_audit(consume, reset_failures):
    """PostgreSQL: consume the step; only if it was consumed, reset any failures and audit; one statement.
    Returns a row when the step was consumed."""
    consumed = consume.returning(tokens.c.id).cte("consumed")
    reset = reset_failures.where(users.c.failures != 0, select(consumed.c.id).exists()).cte("reset")
    columns = _audit_columns()
    values = select(*(bindparam(column.name, type_=column.type) for column in columns)).select_from(consumed)
    return insert(audit_events).from_select(columns, values).returning(audit_events.c.id).add_cte(reset)


class HotPath:
    """Accepts right, fresh codes for ``engine``'s database; see the module's documentation.

    ``read`` selects a user with their token by ``user_id``; ``consume`` is the conditional UPDATE of the
    token's last step (parameters token_id, user_id (the user's key), step, drift, now); ``reset_failures``
    zeroes the user's failures (parameter user_pk).
    """

    def __init__(self, engine, read, consume, reset_failures):
        self._engine = engine
        dialect = engine.dialect
        self._sqlite = dialect.name == "sqlite"
        self._driver_errors = dialect.loaded_dbapi.Error
        self._Row = collections.namedtuple("UserRow", [column.key for column in read.selected_columns])
        self._read = _Compiled(read, dialect)
        if self._sqlite:
            self._consume = _Compiled(consume, dialect)
            self._reset = _Compiled(reset_failures, dialect)
            self._audit = _Compiled(
                insert(audit_events).values({c: bindparam(c.name) for c in _audit_columns()}), dialect
            )
        else:
            self._accept = _Compiled(_consume_reset_audit(consume, reset_failures), dialect)

    def accept(self, user_id, choose, now):
        """Read ``user_id`` with their token; ``choose(row)`` returns the (step, drift) to consume, or None.
        True when the step was consumed, the failures reset and the success audited, all committed;
        False when nothing was changed."""
        raw = self._engine.raw_connection()
        try:
            driver = raw.driver_connection
            return (
                self._accept_sqlite(driver, user_id, choose, now)
                if self._sqlite
                else self._accept_in_one(driver, user_id, choose, now)
            )
        except self._driver_errors as error:
            if not self._engine.dialect.is_disconnect(error, raw.dbapi_connection, None):
                raise
            raw.invalidate()  # the general path then opens a new connection (and retries once itself)
            return False
        finally:
            raw.close()

    def _row(self, driver, user_id):
        found = driver.execute(self._read.sql, self._read.bind({"user_id": user_id})).fetchone()
        return None if found is None else self._Row(*found)

    @staticmethod
    def _params(row, step, drift, now):
        return {
            "token_id": row.token_id,
            "user_id": row.id,
            "user_pk": row.id,
            "step": step,
            "drift": drift,
            "now": now,
            "at": now,
            "event": "verify",
            "result": "ok",
            "actor": row.user_id,
            "subject": row.user_id,
            "serial": row.serial,
        }

    def _accept_sqlite(self, driver, user_id, choose, now):
        driver.execute("BEGIN IMMEDIATE")
        try:
            row = self._row(driver, user_id)
            chosen = None if row is None else choose(row)
            if chosen is None:
                driver.rollback()
                return False
            params = self._params(row, *chosen, now)
            if driver.execute(self._consume.sql, self._consume.bind(params)).rowcount != 1:
                driver.rollback()
                return False
            if row.failures:
                driver.execute(self._reset.sql, self._reset.bind(params))
            driver.execute(self._audit.sql, self._audit.bind(params))
            driver.commit()
            return True
        except BaseException:
            driver.rollback()
            raise

    def _accept_in_one(self, driver, user_id, choose, now):
        driver.autocommit = True
        try:
            row = self._row(driver, user_id)
            chosen = None if row is None else choose(row)
            if chosen is None:
                return False
            params = self._params(row, *chosen, now)
            return driver.execute(self._accept.sql, self._accept.bind(params)).fetchone() is not None
        finally:
            driver.autocommit = False
