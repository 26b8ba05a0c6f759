"""reliable delivery: channel pauses, inbox failures, outbox errcode and route

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_pauses",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_pauses")),
    )
    op.create_table(
        "inbox_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=160), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recovered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_failures")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_inbox_failures_dedup_key")),
    )
    with op.batch_alter_table("inbox_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_failures_openid"), ["openid"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_errcode", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("delivered_via", sa.String(length=16), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("delivered_via")
        batch_op.drop_column("last_errcode")
    with op.batch_alter_table("inbox_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_failures_openid"))
    op.drop_table("inbox_failures")
    op.drop_table("channel_pauses")
