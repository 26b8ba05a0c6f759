"""stations: rider rest stations, riders' last positions, pending station requests

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lng", sa.Double(), nullable=False),
        sa.Column("hours", sa.String(length=128), nullable=False),
        sa.Column("amenities", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
        sa.UniqueConstraint("code", name=op.f("uq_stations_code")),
    )
    op.create_table(
        "rider_positions",
        sa.Column("rider_id", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lng", sa.Double(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name=op.f("fk_rider_positions_rider_id_riders")
        ),
        sa.PrimaryKeyConstraint("rider_id", name=op.f("pk_rider_positions")),
    )
    op.create_index(
        op.f("ix_rider_positions_seen_at"), "rider_positions", ["seen_at"], unique=False
    )
    op.create_table(
        "station_requests",
        sa.Column("rider_id", sa.Integer(), nullable=False),
        sa.Column("amenity", sa.String(length=16), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name=op.f("fk_station_requests_rider_id_riders")
        ),
        sa.PrimaryKeyConstraint("rider_id", name=op.f("pk_station_requests")),
    )


def downgrade() -> None:
    op.drop_table("station_requests")
    op.drop_index(op.f("ix_rider_positions_seen_at"), table_name="rider_positions")
    op.drop_table("rider_positions")
    op.drop_table("stations")
