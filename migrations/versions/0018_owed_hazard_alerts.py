"""owed hazard alerts: what ticket changes owe the riders nearby, for the hazard sweep

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owed_hazard_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("owed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_owed_hazard_alerts_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owed_hazard_alerts")),
    )
    op.create_index(
        op.f("ix_owed_hazard_alerts_ticket_id"), "owed_hazard_alerts", ["ticket_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_owed_hazard_alerts_ticket_id"), table_name="owed_hazard_alerts")
    op.drop_table("owed_hazard_alerts")
