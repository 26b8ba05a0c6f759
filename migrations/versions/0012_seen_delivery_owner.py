"""seen deliveries remember the message they admitted (a spooled message whose replay
check timed out is not mistaken for a replay of itself)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("seen_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedup_key", sa.String(length=160), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seen_deliveries", schema=None) as batch_op:
        batch_op.drop_column("dedup_key")
