"""api_requests: what an Open311 client sent with a request (contact, device, media_url)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_requests",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("first_name", sa.String(length=64), nullable=False),
        sa.Column("last_name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=128), nullable=False),
        sa.Column("media_url", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_api_requests_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_clients.id"], name=op.f("fk_api_requests_client_id_api_clients")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_api_requests")),
    )
    op.create_index(op.f("ix_api_requests_client_id"), "api_requests", ["client_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_api_requests_client_id"), table_name="api_requests")
    op.drop_table("api_requests")
