"""tokens.drift_lo, drift_hi, drift_at: the token's clock offset learnt as an interval of seconds.

Existing rows keep NULL: their window stays centred on their integer drift until the next accepted
code starts the interval (docs/server.md, "How drift is learnt").

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tokens") as table:
        table.add_column(sa.Column("drift_lo", sa.Integer, nullable=True))
        table.add_column(sa.Column("drift_hi", sa.Integer, nullable=True))
        table.add_column(sa.Column("drift_at", sa.BigInteger, nullable=True))


def downgrade():
    with op.batch_alter_table("tokens") as table:
        table.drop_column("drift_at")
        table.drop_column("drift_hi")
        table.drop_column("drift_lo")
