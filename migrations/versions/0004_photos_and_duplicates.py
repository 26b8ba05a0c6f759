"""photos pipeline and duplicate reports

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

EPOCH = sa.text("'1970-01-01 00:00:00'")


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "location_source", sa.String(length=16), nullable=False, server_default="chat"
            )
        )
        batch_op.add_column(
            sa.Column("old_photo", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("no_merge", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("confirmations", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("severity", sa.String(length=16), nullable=False, server_default="normal")
        )
        batch_op.add_column(
            sa.Column("more_reports_noticed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_merged_into_id_tickets"), "tickets", ["merged_into_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_tickets_merged_into_id"), ["merged_into_id"])

    with op.batch_alter_table("ticket_photos", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), nullable=False, server_default="report")
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column(
                "next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=EPOCH
            )
        )
        batch_op.add_column(
            sa.Column("last_error", sa.String(length=256), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("thumb_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("height", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("dhash", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("exif_lat", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("exif_lng", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_ticket_photos_sha256"), ["sha256"])
        batch_op.create_index("ix_ticket_photos_status_due", ["status", "next_attempt_at"])


def downgrade() -> None:
    with op.batch_alter_table("ticket_photos", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_photos_status_due")
        batch_op.drop_index(batch_op.f("ix_ticket_photos_sha256"))
        for column in (
            "processed_at",
            "taken_at",
            "exif_lng",
            "exif_lat",
            "dhash",
            "height",
            "width",
            "thumb_sha256",
            "sha256",
            "last_error",
            "next_attempt_at",
            "attempts",
            "status",
            "role",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_merged_into_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_tickets_merged_into_id_tickets"), type_="foreignkey"
        )
        for column in (
            "more_reports_noticed_at",
            "severity",
            "confirmations",
            "no_merge",
            "merged_at",
            "merged_into_id",
            "old_photo",
            "location_source",
        ):
            batch_op.drop_column(column)
