"""webhooks (signed outbound deliveries of ticket events) and api_requests.request_key
(a retried Open311 POST answers the request it already filed)

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("events", sa.String(length=1024), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    with op.batch_alter_table("api_requests") as batch_op:
        batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            op.f("uq_api_requests_client_id"), ["client_id", "request_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("api_requests") as batch_op:
        batch_op.drop_constraint(op.f("uq_api_requests_client_id"), type_="unique")
        batch_op.drop_column("request_key")
    op.drop_table("webhooks")
