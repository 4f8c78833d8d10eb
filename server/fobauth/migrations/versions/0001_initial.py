"""Initial schema: tokens, users, append-only audit events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_GUARDS = [
    "CREATE TRIGGER audit_events_no_%s BEFORE %s ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END" % (verb.lower(), verb)
    for verb in ("UPDATE", "DELETE")
]
_POSTGRES_GUARDS = [
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
]


def upgrade():
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("serial", sa.String(12), nullable=False, unique=True),
        sa.Column("sealed_seed", sa.LargeBinary, nullable=False),
        sa.Column("algorithm", sa.String(8), nullable=False),
        sa.Column("digits", sa.Integer, nullable=False),
        sa.Column("period", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
        sa.Column("last_step", sa.BigInteger, nullable=False),
        sa.Column("drift", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False, unique=True),
        sa.Column("customer_id", sa.String(64), nullable=False, index=True),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("confirmation_hash", sa.String(255), nullable=False),
        sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id"), nullable=True, index=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("suspended", sa.Boolean, nullable=False),
        sa.Column("cooldown_until", sa.BigInteger, nullable=True),
        sa.Column("skipped_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False, index=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("subject", sa.String(64), nullable=True, index=True),
        sa.Column("serial", sa.String(12), nullable=True),
        sa.Column("result", sa.String(32), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _SQLITE_GUARDS, "postgresql": _POSTGRES_GUARDS}.get(dialect, []):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.drop_table("audit_events")
    op.drop_table("users")
    op.drop_table("tokens")
