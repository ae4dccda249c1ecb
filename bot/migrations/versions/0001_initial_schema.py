"""The schema as it stood before migrations existed (the tables `create_all` made up to this revision).

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)  # what bot.db.UtcDateTime stores


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=1024), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_table(
        "exports",
        sa.Column("export_arn", sa.String(length=512), nullable=False),
        sa.Column("export_id", sa.String(length=128), nullable=False),
        sa.Column("table_key", sa.String(length=600), nullable=False),
        sa.Column("table_name", sa.String(length=255), nullable=False),
        sa.Column("table_arn", sa.String(length=512), nullable=False),
        sa.Column("account_alias", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("export_type", sa.String(length=32), nullable=False),
        sa.Column("export_format", sa.String(length=32), nullable=False),
        sa.Column("client_token", sa.String(length=64), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("bucket", sa.String(length=63), nullable=False),
        sa.Column("bucket_owner", sa.String(length=12), nullable=True),
        sa.Column("s3_prefix", sa.String(length=1024), nullable=False),
        sa.Column("export_time", UTC_TIME, nullable=True),
        sa.Column("export_from", UTC_TIME, nullable=True),
        sa.Column("export_to", UTC_TIME, nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("response_url", sa.Text(), nullable=True),
        sa.Column("schedule_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("item_count", sa.BigInteger(), nullable=True),
        sa.Column("billed_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("failure_code", sa.String(length=128), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("manifest_key", sa.String(length=1024), nullable=True),
        sa.Column("table_snapshot", sa.JSON(), nullable=False),
        sa.Column("notify_state", sa.String(length=16), nullable=False),
        sa.Column("notify_claimed_at", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("export_arn"),
    )
    op.create_index(op.f("ix_exports_export_id"), "exports", ["export_id"], unique=False)
    op.create_index("ix_exports_fingerprint", "exports", ["fingerprint"], unique=False)
    op.create_index("ix_exports_status", "exports", ["status"], unique=False)
    op.create_index("ix_exports_table_created", "exports", ["table_key", "created_at"], unique=False)
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("acquired_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "load_checkpoints",
        sa.Column("restore_id", sa.Text(), nullable=False),
        sa.Column("export_id", sa.Text(), nullable=False),
        sa.Column("file_key", sa.Text(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("deletes", sa.Integer(), nullable=False),
        sa.Column("finished_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("restore_id", "export_id", "file_key"),
    )
    op.create_table(
        "restore_approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("approver", sa.String(length=64), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "approver", name="uq_restore_approvals_request_approver"),
    )
    op.create_table(
        "restore_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("plan_hash", sa.String(length=64), nullable=False),
        sa.Column("target_table", sa.String(length=255), nullable=False),
        sa.Column("account_alias", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("response_url", sa.Text(), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("estimate", sa.JSON(), nullable=True),
        sa.Column("required_approvals", sa.Integer(), nullable=False),
        sa.Column("approval_channel", sa.String(length=64), nullable=True),
        sa.Column("approval_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("decided_by", sa.String(length=512), nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("aws_ref", sa.String(length=1024), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("runner", sa.String(length=64), nullable=True),
        sa.Column("heartbeat_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_restore_requests_created", "restore_requests", ["created_at"], unique=False)
    op.create_index("ix_restore_requests_status", "restore_requests", ["status"], unique=False)
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.String(length=64), nullable=False),
        sa.Column("fire_time", UTC_TIME, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("claimed_at", UTC_TIME, nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("export_type", sa.String(length=32), nullable=True),
        sa.Column("export_from", UTC_TIME, nullable=True),
        sa.Column("export_to", UTC_TIME, nullable=True),
        sa.Column("export_at", UTC_TIME, nullable=True),
        sa.Column("plan_note", sa.Text(), nullable=True),
        sa.Column("export_arn", sa.String(length=512), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fix", sa.Text(), nullable=True),
        sa.Column("note_state", sa.String(length=16), nullable=False),
        sa.Column("note_claimed_at", UTC_TIME, nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("schedule_id", "fire_time", name="uq_schedule_runs_fire"),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("table_text", sa.String(length=1100), nullable=False),
        sa.Column("table_key", sa.String(length=600), nullable=False),
        sa.Column("cron", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("export_type", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=128), nullable=True),
        sa.Column("expected_hours", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("active_since", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_schedules_table_key"), "schedules", ["table_key"], unique=False)


def downgrade() -> None:
    for table in (
        "schedules",
        "schedule_runs",
        "restore_requests",
        "restore_approvals",
        "load_checkpoints",
        "leases",
        "exports",
        "audit_log",
    ):
        op.drop_table(table)
