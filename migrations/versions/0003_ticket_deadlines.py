"""ticket deadlines and the escalation ladder

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("severe", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("claim_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolve_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("ladder_step", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_escalated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("request_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("request_reason", sa.Text(), server_default="", nullable=False)
        )
        batch_op.create_index(
            "ix_tickets_next_check_at",
            ["next_check_at"],
            unique=False,
            postgresql_where=sa.text("next_check_at IS NOT NULL"),
            sqlite_where=sa.text("next_check_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_next_check_at")
        for column in (
            "request_reason",
            "request_minutes",
            "last_escalated_at",
            "last_reminded_at",
            "next_check_at",
            "escalation_level",
            "ladder_step",
            "resolve_due_at",
            "claim_due_at",
            "severe",
        ):
            batch_op.drop_column(column)
