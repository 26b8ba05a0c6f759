"""hardening: webhook deliveries seen (replays across processes), failed bind attempts

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_deliveries",
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("timestamp", "nonce", "signature", name=op.f("pk_seen_deliveries")),
    )
    op.create_table(
        "bind_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bind_failures")),
    )
    with op.batch_alter_table("bind_failures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bind_failures_openid_failed_at", ["openid", "failed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bind_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_bind_failures_openid_failed_at")
    op.drop_table("bind_failures")
    op.drop_table("seen_deliveries")
