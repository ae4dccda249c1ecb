"""Exports keep the KMS key they were encrypted with (`kms=`); the export catalogue keeps every
manifest-summary.json found in the export buckets (`/ddb-catalog`).

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-07 22:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)  # what bot.db.UtcDateTime stores


def upgrade() -> None:
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kms_key", sa.String(length=2048), nullable=True))
    op.create_table(
        "export_catalog",
        sa.Column("bucket", sa.String(length=63), nullable=False),
        sa.Column("summary_key", sa.String(length=1024), nullable=False),
        sa.Column("export_id", sa.String(length=128), nullable=False),
        sa.Column("prefix", sa.String(length=1024), nullable=True),
        sa.Column("bucket_owner", sa.String(length=12), nullable=True),
        sa.Column("table_arn", sa.String(length=1024), nullable=True),
        sa.Column("export_arn", sa.String(length=1024), nullable=True),
        sa.Column("export_type", sa.String(length=32), nullable=True),
        sa.Column("export_format", sa.String(length=32), nullable=True),
        sa.Column("export_time", UTC_TIME, nullable=True),
        sa.Column("export_from", UTC_TIME, nullable=True),
        sa.Column("export_to", UTC_TIME, nullable=True),
        sa.Column("item_count", sa.BigInteger(), nullable=True),
        sa.Column("billed_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("kms_key", sa.String(length=2048), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("discovered_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("bucket", "summary_key"),
    )
    with op.batch_alter_table("export_catalog", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_export_catalog_export_id"), ["export_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_export_catalog_table_arn"), ["table_arn"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("export_catalog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_export_catalog_table_arn"))
        batch_op.drop_index(batch_op.f("ix_export_catalog_export_id"))
    op.drop_table("export_catalog")
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_column("kms_key")
