"""tokens.previous_drift, tokens.resync_step: the position before an unconfirmed resynchronisation.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tokens") as table:
        table.add_column(sa.Column("previous_drift", sa.Integer, nullable=True))
        table.add_column(sa.Column("resync_step", sa.BigInteger, nullable=True))


def downgrade():
    with op.batch_alter_table("tokens") as table:
        table.drop_column("resync_step")
        table.drop_column("previous_drift")
