"""console list indexes: tickets by area and status (scoped counts and pages), and by
deadline (the list sorted by 期限最近)

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.create_index("ix_tickets_area_status_created", ["area_id", "status", "created_at"])
        batch_op.create_index(
            "ix_tickets_due_order", [sa.text("coalesce(resolve_due_at, claim_due_at)"), "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_index("ix_tickets_due_order")
        batch_op.drop_index("ix_tickets_area_status_created")
