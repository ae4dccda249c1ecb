"""The database schema as the code made it before migrations existed (`create_all`, up to commit cd008ee), frozen.

tests/unit/test_schema_migrations.py builds a database with it, fills it, and starts the migrating bot on it. It
never changes: it is what installations that predate migrations have on disk.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

BEFORE = MetaData()
UTC_TIME = DateTime(timezone=True)  # what bot.db.UtcDateTime stored

exports = Table(
    "exports",
    BEFORE,
    Column("export_arn", String(512), primary_key=True),
    Column("export_id", String(128), nullable=False, index=True),
    Column("table_key", String(600), nullable=False),
    Column("table_name", String(255), nullable=False),
    Column("table_arn", String(512), nullable=False),
    Column("account_alias", String(64)),
    Column("region", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("export_type", String(32), nullable=False),
    Column("export_format", String(32), nullable=False),
    Column("client_token", String(64)),
    Column("fingerprint", String(64)),
    Column("bucket", String(63), nullable=False),
    Column("bucket_owner", String(12)),
    Column("s3_prefix", String(1024), nullable=False),
    Column("export_time", UTC_TIME),
    Column("export_from", UTC_TIME),
    Column("export_to", UTC_TIME),
    Column("requested_by", String(64), nullable=False),
    Column("channel_id", String(64)),
    Column("response_url", Text),
    Column("schedule_id", String(64)),
    Column("started_at", UTC_TIME),
    Column("ended_at", UTC_TIME),
    Column("item_count", BigInteger),
    Column("billed_size_bytes", BigInteger),
    Column("failure_code", String(128)),
    Column("failure_message", Text),
    Column("manifest_key", String(1024)),
    Column("table_snapshot", JSON, nullable=False, default=dict),
    Column("notify_state", String(16), nullable=False, default="pending"),
    Column("notify_claimed_at", UTC_TIME),
    Column("created_at", UTC_TIME, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
)

Index("ix_exports_status", exports.c.status)

Index("ix_exports_table_created", exports.c.table_key, exports.c.created_at)

Index("ix_exports_fingerprint", exports.c.fingerprint)

audit_log = Table(
    "audit_log",
    BEFORE,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTC_TIME, nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(1024), nullable=False),
    Column("parameters", Text, nullable=False),
    Column("result", Text, nullable=False),
)

leases = Table(
    "leases",
    BEFORE,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", UTC_TIME, nullable=False),
    Column("acquired_at", UTC_TIME, nullable=False),
)

load_checkpoints = Table(
    "load_checkpoints",
    BEFORE,
    Column("restore_id", Text, primary_key=True),
    Column("export_id", Text, primary_key=True),
    Column("file_key", Text, primary_key=True),
    Column("items", Integer, nullable=False),
    Column("deletes", Integer, nullable=False),
    Column("finished_at", UTC_TIME, nullable=False),
)

restore_requests = Table(
    "restore_requests",
    BEFORE,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("plan", JSON, nullable=False),
    Column("plan_hash", String(64), nullable=False),
    Column("target_table", String(255), nullable=False),
    Column("account_alias", String(64)),
    Column("region", String(32), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("channel_id", String(64)),
    Column("response_url", Text),
    Column("sources", JSON, nullable=False, default=list),
    Column("estimate", JSON),
    Column("required_approvals", Integer, nullable=False),
    Column("approval_channel", String(64)),
    Column("approval_ts", String(32)),
    Column("created_at", UTC_TIME, nullable=False),
    Column("expires_at", UTC_TIME, nullable=False),
    Column("decided_at", UTC_TIME),
    Column("decided_by", String(512)),
    Column("started_at", UTC_TIME),
    Column("finished_at", UTC_TIME),
    Column("aws_ref", String(1024)),
    Column("result", JSON, nullable=False, default=dict),
    Column("failure_message", Text),
    Column("runner", String(64)),
    Column("heartbeat_at", UTC_TIME),
    Column("updated_at", UTC_TIME, nullable=False),
)

Index("ix_restore_requests_status", restore_requests.c.status)

Index("ix_restore_requests_created", restore_requests.c.created_at)

restore_approvals = Table(
    "restore_approvals",
    BEFORE,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(32), nullable=False),
    Column("approver", String(64), nullable=False),
    Column("at", UTC_TIME, nullable=False),
    UniqueConstraint("request_id", "approver", name="uq_restore_approvals_request_approver"),
)

schedules = Table(
    "schedules",
    BEFORE,
    Column("id", String(64), primary_key=True),
    Column("table_text", String(1100), nullable=False),
    Column("table_key", String(600), nullable=False, index=True),
    Column("cron", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("export_type", String(16), nullable=False),
    Column("options", JSON, nullable=False),
    Column("channel", String(128)),
    Column("expected_hours", Float),
    Column("source", String(16), nullable=False),
    Column("paused", Boolean, nullable=False, default=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTC_TIME, nullable=False),
    Column("active_since", UTC_TIME, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    Column("version", Integer, nullable=False, default=1),
)

schedule_runs = Table(
    "schedule_runs",
    BEFORE,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule_id", String(64), nullable=False),
    Column("fire_time", UTC_TIME, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("holder", String(128), nullable=False),
    Column("claimed_at", UTC_TIME, nullable=False),
    Column("requested_by", String(64)),
    Column("export_type", String(32)),
    Column("export_from", UTC_TIME),
    Column("export_to", UTC_TIME),
    Column("export_at", UTC_TIME),
    Column("plan_note", Text),
    Column("export_arn", String(512)),
    Column("error", Text),
    Column("fix", Text),
    Column("note_state", String(16), nullable=False, default="none"),
    Column("note_claimed_at", UTC_TIME),
    Column("late", Boolean, nullable=False, default=False),
    Column("updated_at", UTC_TIME, nullable=False),
    UniqueConstraint("schedule_id", "fire_time", name="uq_schedule_runs_fire"),
)
