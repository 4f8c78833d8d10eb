"""The one builder of audit rows: every security event, from the service, its fast path and the portal,
is written as ``INSERT`` of ``row(...)``, in the same transaction (or statement) as the change it
records.  A row names who did what to whom and the result, never a code, a seed or a password."""

from sqlalchemy import bindparam, insert

from fobauth.schema import audit_events

COLUMNS = ("at", "event", "result", "actor", "subject", "serial")
# Parameter names are not column names: SQLAlchemy would take a column's name among the parameters of
# an UPDATE (a CTE in fobauth.acceptance) as one more column to set.
PARAMETER = "audit_%s"
INSERT = insert(audit_events).values({name: bindparam(PARAMETER % name) for name in COLUMNS})


def row(at, event, result, actor=None, subject=None, serial=None):
    """The parameters of ``INSERT`` for one event."""
    values = (at, event, result, actor, subject, serial)
    return {PARAMETER % name: value for name, value in zip(COLUMNS, values, strict=True)}
