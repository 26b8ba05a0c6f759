"""hazard alerts: alerts and all-clears sent to riders, riders who opted out

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hazard_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("rider_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_hazard_alerts_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name=op.f("fk_hazard_alerts_rider_id_riders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_alerts")),
    )
    op.create_index(
        "ix_hazard_alerts_ticket_kind", "hazard_alerts", ["ticket_id", "kind"], unique=False
    )
    op.create_index(
        "ix_hazard_alerts_rider_sent", "hazard_alerts", ["rider_id", "sent_at"], unique=False
    )
    op.create_table(
        "hazard_opt_outs",
        sa.Column("rider_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name=op.f("fk_hazard_opt_outs_rider_id_riders")
        ),
        sa.PrimaryKeyConstraint("rider_id", name=op.f("pk_hazard_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("hazard_opt_outs")
    op.drop_index("ix_hazard_alerts_rider_sent", table_name="hazard_alerts")
    op.drop_index("ix_hazard_alerts_ticket_kind", table_name="hazard_alerts")
    op.drop_table("hazard_alerts")
