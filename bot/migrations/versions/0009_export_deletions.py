"""/ddb-retention's early deletions of exports: the request a second person approves, and how the deletion ended.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-08 01:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)  # what bot.db.UtcDateTime stores


def upgrade() -> None:
    op.create_table(
        "export_deletions",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("table_key", sa.String(length=1024), nullable=False),
        sa.Column("export_id", sa.String(length=128), nullable=False),
        sa.Column("export_arn", sa.String(length=1024), nullable=True),
        sa.Column("export_type", sa.String(length=32), nullable=False),
        sa.Column("export_time", UTC_TIME, nullable=True),
        sa.Column("bucket", sa.String(length=63), nullable=False),
        sa.Column("folder", sa.String(length=1024), nullable=False),
        sa.Column("bucket_owner", sa.String(length=12), nullable=True),
        sa.Column("object_count", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("approval_channel", sa.String(length=32), nullable=True),
        sa.Column("approval_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("deleted_objects", sa.Integer(), nullable=True),
        sa.Column("kept_objects", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("export_deletions", schema=None) as batch_op:
        batch_op.create_index("ix_export_deletions_export_id", ["export_id"], unique=False)
        batch_op.create_index("ix_export_deletions_state", ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("export_deletions", schema=None) as batch_op:
        batch_op.drop_index("ix_export_deletions_state")
        batch_op.drop_index("ix_export_deletions_export_id")
    op.drop_table("export_deletions")
