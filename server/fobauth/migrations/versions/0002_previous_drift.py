"""tokens.previous_drift: the drift before an unconfirmed resynchronisation.

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


def downgrade():
    with op.batch_alter_table("tokens") as table:
        table.drop_column("previous_drift")
