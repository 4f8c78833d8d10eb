"""The fast path: fobauth.acceptance's statements on the driver's own connection, compiled once.

Per statement, SQLAlchemy's execution machinery (execution context, result
objects, events) costs more CPU than the SQL itself on SQLite and about as
much as a round trip on PostgreSQL.  Verification is the one call a bank
makes for every login, so its statements are rendered once per dialect and
run here on the driver; the statements, the decision and the order of the
writes are the general path's own (``AuthService(fast_path=False)`` runs the
same check through SQLAlchemy, and tests compare the two).
"""

import collections
import contextlib

from fobauth import acceptance
from fobauth.database import Dropped


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
    def __init__(self, fast, driver):
        self._fast = fast
        self._driver = driver
        self.in_one = fast.in_one
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


class FastPath:
    """Sessions of fobauth.acceptance on ``engine``'s pooled connections, without SQLAlchemy in between."""

    def __init__(self, engine):
        self._engine = engine
        self._dialect = engine.dialect
        self.in_one = acceptance.writes_in_one(self._dialect)
        self._driver_errors = self._dialect.loaded_dbapi.Error
        self._compiled = {}
        self.Row = collections.namedtuple("UserRow", [column.key for column in acceptance.READ.selected_columns])

    def compiled(self, statement):
        found = self._compiled.get(statement)
        if found is None:
            found = self._compiled[statement] = _Compiled(statement, self._dialect)
        return found

    @contextlib.contextmanager
    def session(self):
        """Like fobauth.acceptance.general_session: autocommit for one-statement writes, else one BEGIN
        IMMEDIATE transaction (SQLite).  A connection the database dropped before anything was written
        raises fobauth.database.Dropped."""
        raw = self._engine.raw_connection()
        session = None
        try:
            driver = raw.driver_connection
            session = _Session(self, driver)
            if session.in_one:
                driver.autocommit = True
                try:
                    yield session
                finally:
                    driver.autocommit = False
            else:
                driver.execute("BEGIN IMMEDIATE")
                try:
                    yield session
                    driver.commit()
                except BaseException:
                    driver.rollback()
                    raise
        except self._driver_errors as error:
            if not self._dialect.is_disconnect(error, raw.dbapi_connection, None):
                raise
            raw.invalidate()
            if session is None or not session.wrote:
                raise Dropped(error) from None
            raise
        finally:
            raw.close()
