"""late answers: messages acknowledged before their answer was ready

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_parked",
        sa.Column("dedup_key", sa.String(length=160), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("dedup_key", name=op.f("pk_inbox_parked")),
    )
    with op.batch_alter_table("inbox_parked", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_parked_parked_at"), ["parked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbox_parked_openid"), ["openid"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.String(length=160), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_outbox_reply_to"), ["reply_to"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_outbox_reply_to"), type_="unique")
        batch_op.drop_column("reply_to")
    with op.batch_alter_table("inbox_parked", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_parked_openid"))
        batch_op.drop_index(batch_op.f("ix_inbox_parked_parked_at"))
    op.drop_table("inbox_parked")
