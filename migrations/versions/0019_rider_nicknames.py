"""rider nicknames: what a rider chose to be called on the points boards

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("riders") as batch_op:
        batch_op.add_column(sa.Column("nickname", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("riders") as batch_op:
        batch_op.drop_column("nickname")
