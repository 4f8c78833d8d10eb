"""The fast path: fobauth.acceptance's statements on the driver's own connection, compiled once.

Per statement, SQLAlchemy's execution machinery (execution context, result
objects, events) costs more CPU than the SQL itself on SQLite and about as
much as a round trip on PostgreSQL.  Verification is the one call a bank
makes for every login, so its statements are rendered once per dialect and
run here on the driver; the statements, the decision and the order of the
writes are the general path's own (``AuthService(fast_path=False)`` runs the
same check through SQLAlchemy, and tests compare the two).

On PostgreSQL the fast path takes checks in groups (``FastPath.group``): one
SELECT for all their users, then every check's one write sent at once in
psycopg's pipeline mode, up to a single Sync.  The server runs what comes
before a Sync as one transaction (PostgreSQL's protocol documentation,
"Pipelining"), so the group commits once, and the commit, not the SQL, was
most of what a verification cost the database (docs/server-performance.md).
If a write fails, the server skips the rest and rolls the group back; the
caller then runs its checks again one by one (fobauth.checks).  Tests prove
both on a real server (tests/server/test_groups.py).
"""

import collections
import contextlib

from fobauth import acceptance
from fobauth.database import Dropped, NothingKept


class _Compiled:
    """One statement rendered once for a dialect; binds a dict of parameters the way its driver wants,
    with the statement's own constants added."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._constants = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        self._names = tuple(compiled.positiontup) if dialect.positional else None

    def bind(self, params):
        params = {**self._constants, **params}
        return params if self._names is None else tuple(params[name] for name in self._names)


class _Session:
    in_one = False

    def __init__(self, fast, driver):
        self._fast = fast
        self._driver = driver
        self.wrote = False

    def __call__(self, statement, params):
        compiled = self._fast.compiled(statement)
        self.wrote = True
        cursor = self._driver.execute(compiled.sql, compiled.bind(params))
        rows = cursor.fetchall() if cursor.description else []
        return rows, cursor.rowcount

    def read(self, user_id):
        compiled = self._fast.compiled(acceptance.READ)
        found = self._driver.execute(compiled.sql, compiled.bind({"user_id": user_id})).fetchone()
        return None if found is None else self._fast.Row(*found)


class _Group:
    """The checks of one group on one connection (the one-statement form): their users read in one
    SELECT, then every check's one write in one transaction, sent at once (psycopg's pipeline mode)."""

    def __init__(self, fast, driver):
        self._fast = fast
        self._driver = driver
        self.wrote = False

    def read(self, user_ids):
        """The users ``user_ids`` with their tokens (fobauth.acceptance.READ_MANY), by user id.  An error
        other than a dropped connection raises NotKept: nothing was written, and the checks can each be
        run on their own."""
        compiled = self._fast.compiled(acceptance.READ_MANY)
        try:
            found = self._driver.execute(compiled.sql, compiled.bind({"user_ids": sorted(set(user_ids))})).fetchall()
        except self._fast.driver_errors as error:
            if self._driver.broken:
                raise
            raise NotKept(error) from None
        return {row.user_id: row for row in map(self._fast.Row._make, found)}

    def write(self, writes):
        """Run the (statement, params) pairs ``writes`` in one transaction; the rows each returned.  An
        error the server reports rolls them all back and raises NotKept.  Any other error (a dropped
        connection, or one of the driver's own once earlier writes were sent), after which the commit
        may have happened, is raised as it is."""
        self.wrote = True
        driver = self._driver
        bound = []
        for statement, params in writes:  # bound before any is sent
            compiled = self._fast.compiled(statement)
            bound.append((compiled.sql, compiled.bind(params)))
        try:
            with driver.pipeline():
                cursors = [driver.cursor().execute(sql, params) for sql, params in bound]
        except self._fast.driver_errors as error:
            if driver.broken or getattr(error, "sqlstate", None) is None:
                raise
            raise NotKept(error) from None
        return [cursor.fetchall() for cursor in cursors]


class NotKept(NothingKept):
    """A group's transaction failed and was rolled back: nothing of it was kept, so each of its checks
    can be run again (on its own, where an error is that check's alone)."""


class FastPath:
    """Sessions of fobauth.acceptance on ``engine``'s pooled connections, without SQLAlchemy in between."""

    def __init__(self, engine):
        self._engine = engine
        self._dialect = engine.dialect
        self.in_one = acceptance.writes_in_one(self._dialect)
        self.driver_errors = self._dialect.loaded_dbapi.Error
        self._compiled = {}
        self.Row = collections.namedtuple("UserRow", [column.key for column in acceptance.READ.selected_columns])

    def compiled(self, statement):
        found = self._compiled.get(statement)
        if found is None:
            found = self._compiled[statement] = _Compiled(statement, self._dialect)
        return found

    @contextlib.contextmanager
    def _connection(self, kind):
        """A session of ``kind`` (_Session or _Group) on a pooled connection, and the driver connection;
        a connection the database dropped before the session wrote anything raises
        fobauth.database.Dropped."""
        raw = self._engine.raw_connection()
        session = kind(self, raw.driver_connection)
        try:
            yield session, raw.driver_connection
        except NotKept:
            # After a failed pipeline psycopg may hold as prepared a statement whose Parse the server
            # skipped (psycopg 3.3, _preparing.PrepareManager.maybe_add_to_cache registers the name of
            # a statement prepared on its sixth use without validating it): the connection goes.
            raw.invalidate()
            raise
        except self.driver_errors as error:
            if not self._dialect.is_disconnect(error, raw.dbapi_connection, None):
                raise
            raw.invalidate()
            if not session.wrote:
                raise Dropped(error) from None
            raise
        finally:
            raw.close()

    @contextlib.contextmanager
    def group(self):
        """A _Group for the checks of one group, on a connection in autocommit (the one-statement form)."""
        with self._connection(_Group) as (group, driver):
            driver.autocommit = True
            try:
                yield group
            finally:
                if not driver.broken:  # else the error to raise is the one that broke it
                    driver.autocommit = False

    @contextlib.contextmanager
    def session(self):
        """A check's session in the sequence form (SQLite), like fobauth.acceptance.general_session's: one
        BEGIN IMMEDIATE transaction."""
        with self._connection(_Session) as (session, driver):
            driver.execute("BEGIN IMMEDIATE")
            try:
                yield session
                driver.commit()
            except BaseException:
                driver.rollback()
                raise
