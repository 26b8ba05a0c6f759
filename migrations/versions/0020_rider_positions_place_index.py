"""rider positions by place: the hazard fan-out's box query reads the index alone

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_rider_positions_place", "rider_positions", ["lat", "lng", "seen_at", "rider_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_rider_positions_place", table_name="rider_positions")
