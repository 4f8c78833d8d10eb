"""The one builder of audit rows: every security event, from the service, its fast path and the portal,
is written as ``INSERT`` of ``row(...)``, in the same transaction (or statement) as the change it
records.  A row names who did what to whom and the result, never a code, a seed or a password."""

from sqlalchemy import String, bindparam, insert, literal

from fobauth.schema import audit_events

COLUMNS = ("at", "event", "result", "actor", "subject", "serial")
# Parameter names are not column names: SQLAlchemy would take a column's name among the parameters of
# an UPDATE (a CTE in fobauth.acceptance) as one more column to set.
PARAMETER = "audit_%s"
PARAMETERS = tuple(PARAMETER % name for name in COLUMNS)
RESULT = PARAMETER % "result"
INSERT = insert(audit_events).values({name: bindparam(PARAMETER % name) for name in COLUMNS})


def row(at, event, result, actor=None, subject=None, serial=None):
    """The parameters of ``INSERT`` for one event."""
    return dict(zip(PARAMETERS, (at, event, result, actor, subject, serial), strict=True))


def selected(event=None, result=None):
    """The row as the columns of a SELECT, for ``INSERT ... SELECT`` in the statement of the change it
    records: bound parameters, ``event`` and ``result`` replaced when given (a string or an expression)."""
    values = {name: bindparam(PARAMETER % name, type_=audit_events.c[name].type) for name in COLUMNS}
    for name, value in (("event", event), ("result", result)):
        if value is not None:
            values[name] = literal(value, String) if isinstance(value, str) else value
    return [values[name] for name in COLUMNS]


def insert_selected(query):
    """``INSERT`` of the rows ``query`` selects (columns from ``selected``), returning their results."""
    return insert(audit_events).from_select(COLUMNS, query).returning(audit_events.c.result)
