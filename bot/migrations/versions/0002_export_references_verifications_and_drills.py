"""The bot's record of each completed export (its manifests' checksums, every data file's MD5 and item count),
/ddb-verify's verifications and /ddb-drill's drills.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 14:15:26.139183
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)  # what bot.db.UtcDateTime stores


def upgrade() -> None:
    op.create_table(
        "drills",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("table_key", sa.String(length=600), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("import_arn", sa.Text(), nullable=True),
        sa.Column("runner", sa.String(length=128), nullable=True),
        sa.Column("heartbeat_at", UTC_TIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.create_index("ix_drills_status", ["status"], unique=False)
        batch_op.create_index("ix_drills_table_created", ["table_key", "created_at"], unique=False)

    op.create_table(
        "export_files",
        sa.Column("export_arn", sa.String(length=512), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("data_key", sa.String(length=1024), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("item_count", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("export_arn", "position"),
    )
    op.create_table(
        "export_manifests",
        sa.Column("export_arn", sa.String(length=512), nullable=False),
        sa.Column("export_id", sa.String(length=128), nullable=False),
        sa.Column("checksum", sa.Text(), nullable=False),
        sa.Column("item_count", sa.BigInteger(), nullable=True),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("export_arn"),
    )
    with op.batch_alter_table("export_manifests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_export_manifests_export_id"), ["export_id"], unique=False)

    op.create_table(
        "verifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("export_id", sa.String(length=128), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("runner", sa.String(length=128), nullable=True),
        sa.Column("heartbeat_at", UTC_TIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("items", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("reference_at", UTC_TIME, nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.create_index("ix_verifications_export_created", ["export_id", "created_at"], unique=False)
        batch_op.create_index("ix_verifications_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_index("ix_verifications_status")
        batch_op.drop_index("ix_verifications_export_created")

    op.drop_table("verifications")
    with op.batch_alter_table("export_manifests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_export_manifests_export_id"))

    op.drop_table("export_manifests")
    op.drop_table("export_files")
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.drop_index("ix_drills_table_created")
        batch_op.drop_index("ix_drills_status")

    op.drop_table("drills")
