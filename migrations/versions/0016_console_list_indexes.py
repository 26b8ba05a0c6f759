"""console list indexes: open tickets by claim and resolve deadline (the overdue filter)

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OPEN = "status IN ('reopened', 'returned', 'assigned', 'summoned', 'claimed')"
UNCLAIMED = f"claimed_at IS NULL AND {OPEN}"


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.create_index(
            "ix_tickets_open_claim_due",
            ["claim_due_at"],
            postgresql_where=sa.text(UNCLAIMED),
            sqlite_where=sa.text(UNCLAIMED),
        )
        batch_op.create_index(
            "ix_tickets_open_resolve_due",
            ["resolve_due_at"],
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_index("ix_tickets_open_resolve_due")
        batch_op.drop_index("ix_tickets_open_claim_due")
