"""staff.wecom_userid: staff bound on the WeCom (企业微信) app

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("wecom_userid", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_staff_wecom_userid"), ["wecom_userid"])


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint(op.f("uq_staff_wecom_userid"), type_="unique")
        batch.drop_column("wecom_userid")
