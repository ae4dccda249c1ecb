"""One claimed-work table for every kind of background work, and the work in flight at the upgrade moved into it:
approved and running restores, queued and running verifications and drills, claimed schedule fires, many-table
fires with tables still queued, and messages not posted yet. Nothing in flight is stranded by the upgrade.

The per-feature claim columns (runner, heartbeat_at, notify_claimed_at, note_claimed_at) are left in place, unused.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)  # what bot.db.UtcDateTime stores
FANOUT_WITHIN = timedelta(hours=24)  # a many-table fire's queued tables are started within a day of the fire


def upgrade() -> None:
    work = op.create_table(
        "work_claims",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column("token", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", UTC_TIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=True),
        sa.Column("available_at", UTC_TIME, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    with op.batch_alter_table("work_claims", schema=None) as batch_op:
        batch_op.create_index("ix_work_claims_due", ["kind", "state", "created_at"], unique=False)
    rows = list(_in_flight(op.get_bind()))
    for table, column in (("exports", "notify_state"), ("schedule_runs", "note_state")):
        notes = sa.table(table, sa.column(column))
        op.execute(notes.update().where(notes.c[column] == "sending").values({column: "pending"}))
    if rows:
        now = datetime.now(UTC)
        op.bulk_insert(
            work,
            [
                {
                    "kind": kind,
                    "key": key,
                    "state": "ready",
                    "token": 0,
                    "attempts": 0,
                    "payload": payload,
                    "created_at": now,
                    "updated_at": now,
                }
                for kind, key, payload in rows
            ],
        )


def _in_flight(connection: Any) -> Any:
    """(kind, key, payload) of every piece of work the old per-feature claims held or waited for."""
    yield from _simple(connection, "restore", "restore_requests", "status", ("APPROVED", "RUNNING"))
    yield from _simple(connection, "verification", "verifications", "status", ("queued", "running"))
    yield from _simple(connection, "drill", "drills", "status", ("queued", "running"))
    runs = sa.table(
        "schedule_runs",
        sa.column("id"),
        sa.column("schedule_id"),
        sa.column("fire_time", UTC_TIME),
        sa.column("kind"),
        sa.column("state"),
        sa.column("requested_by"),
        sa.column("plan_note"),
        sa.column("note_state"),
    )
    now = datetime.now(UTC)
    for run in connection.execute(sa.select(runs)).mappings():
        fire_time = _utc(run["fire_time"])
        if run["state"] == "claimed":
            key = f"{run['schedule_id']}@{fire_time.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            payload = {
                "schedule_id": run["schedule_id"],
                "fire_time": fire_time.isoformat(),
                "run_kind": run["kind"],
                "requested_by": run["requested_by"],
            }
            yield "fire", key, payload
        if (
            run["state"] == "started"
            and (run["plan_note"] or "").startswith("queued:")
            and now - fire_time < FANOUT_WITHIN
        ):
            yield "fanout", str(run["id"]), None
        if run["note_state"] in {"pending", "sending"}:
            yield "note", f"run:{run['id']}", None
    exports = sa.table("exports", sa.column("export_arn"), sa.column("status"), sa.column("notify_state"))
    pending = sa.select(exports.c.export_arn).where(
        exports.c.status != "IN_PROGRESS", exports.c.notify_state.in_(["pending", "sending"])
    )
    for arn in connection.execute(pending).scalars():
        yield "note", f"export:{arn}", None


def _simple(connection: Any, kind: str, table: str, column: str, active: tuple[str, ...]) -> Any:
    rows = sa.table(table, sa.column("id"), sa.column(column))
    for key in connection.execute(sa.select(rows.c.id).where(rows.c[column].in_(active))).scalars():
        yield kind, str(key), None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def downgrade() -> None:
    with op.batch_alter_table("work_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_work_claims_due")
    op.drop_table("work_claims")
