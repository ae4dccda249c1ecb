"""Exports and the audit log in the database; state changes are compare-and-set so any job may run twice."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.db import UtcDateTime, database_now, metadata
from bot.models import ExportFormat, ExportJob, ExportStatus, ExportType
from bot.outbox import Outbox, OutboxState
from bot.timefmt import utcnow

exports = Table(
    "exports",
    metadata,
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
    Column("export_time", UtcDateTime()),
    Column("export_from", UtcDateTime()),
    Column("export_to", UtcDateTime()),
    Column("requested_by", String(64), nullable=False),
    Column("channel_id", String(64)),
    Column("response_url", Text),
    Column("schedule_id", String(64)),
    Column("started_at", UtcDateTime()),
    Column("ended_at", UtcDateTime()),
    Column("item_count", BigInteger),
    Column("billed_size_bytes", BigInteger),
    Column("failure_code", String(128)),
    Column("failure_message", Text),
    Column("manifest_key", String(1024)),
    Column("kms_key", String(2048)),
    Column("table_snapshot", JSON, nullable=False, default=dict),
    Column("notify_state", String(16), nullable=False, default=OutboxState.PENDING),
    Column("notify_claimed_at", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
Index("ix_exports_status", exports.c.status)
Index("ix_exports_table_created", exports.c.table_key, exports.c.created_at)
Index("ix_exports_fingerprint", exports.c.fingerprint)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(1024), nullable=False),
    Column("parameters", Text, nullable=False),
    Column("result", Text, nullable=False),
)

JOB_FIELDS = {f.name for f in fields(ExportJob)}
LAST_COMPLETED_BATCH = 500  # table keys per query: far below SQLite's and PostgreSQL's bound-parameter limits
FINISH_FIELDS = {
    "status",
    "ended_at",
    "item_count",
    "billed_size_bytes",
    "failure_code",
    "failure_message",
    "manifest_key",
    "started_at",
    "export_time",
}
RESULTS = Outbox("export", exports.c.export_arn, exports.c.notify_state)
# exports.notify_claimed_at is no longer used: the note's claim is in work_claims (bot.background.claims).


class Store:
    """Repository for exports and the audit log."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record_export(self, job: ExportJob) -> tuple[ExportJob, bool]:
        """Insert the export, stamped by the database's clock; if its ARN is already known return the stored one. The
        flag says it was new. An export recorded finished owes its result at once."""
        row = {k: v for k, v in vars(job).items() if k in JOB_FIELDS}
        try:
            with self.engine.begin() as connection:
                now = database_now(connection)
                row["created_at"] = job.created_at or now
                connection.execute(insert(exports), {**row, "updated_at": now, "notify_state": OutboxState.NONE})
                if job.status != ExportStatus.IN_PROGRESS:
                    RESULTS.owe(connection, job.export_arn)
        except IntegrityError:
            existing = self.get_export(job.export_arn)
            assert existing is not None
            return existing, False
        return replace(job, created_at=row["created_at"]), True

    def get_export(self, export_arn: str) -> ExportJob | None:
        """One export by ARN."""
        return self._one(exports.c.export_arn == export_arn)

    def find_export(self, export_id_or_arn: str) -> ExportJob | None:
        """One export by ARN or by ExportId (newest if an id repeats across accounts)."""
        return self._one(or_(exports.c.export_arn == export_id_or_arn, exports.c.export_id == export_id_or_arn))

    def find_duplicate(self, fingerprint: str, within: timedelta) -> ExportJob | None:
        """An export with the same parameters that is still running or was recorded in the last `within`, by the
        database's clock (replicas' own clocks may disagree by more than `within`)."""
        with self.engine.connect() as connection:
            since = database_now(connection) - within
        return self._one(
            and_(
                exports.c.fingerprint == fingerprint,
                or_(exports.c.status == ExportStatus.IN_PROGRESS, exports.c.created_at >= since),
            )
        )

    def by_client_token(self, client_token: str) -> ExportJob | None:
        """The export started with that ClientToken (a scheduled fire's export of one table), if any."""
        return self._one(exports.c.client_token == client_token)

    def unfinished_exports(self) -> list[ExportJob]:
        """Exports DynamoDB has not finished yet, oldest first."""
        return self._many(exports.c.status == ExportStatus.IN_PROGRESS, newest_first=False)

    def recent_exports(self, table_key: str | None = None, limit: int = 15) -> list[ExportJob]:
        """The newest exports, of one table or of all."""
        condition = exports.c.table_key == table_key if table_key else None
        return self._many(condition, limit=limit)

    def schedule_exports(self, schedule_id: str, limit: int = 20) -> list[ExportJob]:
        """Exports a schedule started, newest first (the incremental chain is read from these)."""
        return self._many(exports.c.schedule_id == schedule_id, limit=limit)

    def exports_since(self, since: datetime, table_keys: Iterable[str] | None = None) -> list[ExportJob]:
        """Exports created since a moment (month-to-date costs), newest first."""
        condition = exports.c.created_at >= since
        if table_keys is not None:
            condition = and_(condition, exports.c.table_key.in_(list(table_keys)))
        return self._many(condition)

    def last_completed(self, table_keys: Iterable[str], region: str | None = None) -> dict[str, ExportJob]:
        """The newest COMPLETED export of each table (of the tables of that name in `region`, when given): one query
        per LAST_COMPLETED_BATCH tables (the newest row of each table chosen by the database, a window function that
        SQLite and PostgreSQL both have), not one per table: a survey of 5,000 tables spent seconds of CPU there."""
        return {job.table_key: job for job in self._newest_completed(table_keys, region, by_owner=False)}

    def last_completed_by_owner(
        self, table_keys: Iterable[str], region: str, leave_out: Collection[str] = ()
    ) -> dict[str, list[ExportJob]]:
        """The newest COMPLETED export of each table in each bucket owner it was exported to (no owner recorded is
        one more), newest first by the moment it holds, the exports in `leave_out` (export ids) left out: what a
        backup's age and a copy in another account are judged from, batched as `last_completed` is."""
        found: dict[str, list[ExportJob]] = {}
        for job in self._newest_completed(table_keys, region, by_owner=True, leave_out=leave_out):
            found.setdefault(job.table_key, []).append(job)
        for jobs in found.values():
            jobs.sort(key=lambda j: (_held_moment(j), j.export_arn), reverse=True)
        return found

    def _newest_completed(
        self, table_keys: Iterable[str], region: str | None, *, by_owner: bool, leave_out: Collection[str] = ()
    ) -> list[ExportJob]:
        """The newest completed export per table (and per bucket owner): by creation for `last_completed`, as it
        always was; by the moment the export holds (an incremental's window end, a full export's time) by owner."""
        found: list[ExportJob] = []
        in_region = exports.c.region == region if region is not None else true()
        kept = exports.c.export_id.not_in(sorted(leave_out)) if leave_out else true()
        keys = list(dict.fromkeys(table_keys))
        owner = func.coalesce(exports.c.bucket_owner, "")
        groups = (exports.c.table_key, owner) if by_owner else (exports.c.table_key,)
        held = func.coalesce(exports.c.export_to, exports.c.export_time, exports.c.started_at, exports.c.created_at)
        newest_first = (held.desc() if by_owner else exports.c.created_at.desc(), exports.c.export_arn.desc())
        for first in range(0, len(keys), LAST_COMPLETED_BATCH):
            batch = keys[first : first + LAST_COMPLETED_BATCH]
            rank = func.row_number().over(partition_by=groups, order_by=newest_first).label("rank")
            ranked = (
                select(exports, rank)
                .where(exports.c.table_key.in_(batch), exports.c.status == ExportStatus.COMPLETED, in_region, kept)
                .subquery()
            )
            query = select(*(ranked.c[c.name] for c in exports.columns)).where(ranked.c.rank == 1)
            with self.engine.connect() as connection:
                found.extend(_jobs(connection.execute(query).mappings()))
        return found

    def update_export(self, export_arn: str, **changes: Any) -> None:
        """Record what DescribeExport said while the export is still running."""
        with self.engine.begin() as connection:
            connection.execute(
                update(exports).where(exports.c.export_arn == export_arn).values(**changes, updated_at=utcnow())
            )

    def finish_export(self, export_arn: str, **result: Any) -> bool:
        """IN_PROGRESS → COMPLETED/FAILED exactly once, its result owed to people in the same transaction; False
        when someone else already did it."""
        unknown = set(result) - FINISH_FIELDS
        if unknown:
            raise ValueError(f"not a result field: {sorted(unknown)}")
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(exports)
                .where(exports.c.export_arn == export_arn, exports.c.status == ExportStatus.IN_PROGRESS)
                .values(**result, updated_at=utcnow())
            ).rowcount
            if changed == 1:
                RESULTS.owe(connection, export_arn)
        return changed == 1

    def unposted_results(self) -> list[ExportJob]:
        """Finished exports whose result is owed and not posted yet, oldest first."""
        condition = and_(exports.c.status != ExportStatus.IN_PROGRESS, exports.c.notify_state == OutboxState.PENDING)
        return self._many(condition, newest_first=False)

    def result_posted(self, connection: Connection, export_arn: str) -> None:
        """The export's result was posted (in the transaction that settles its note)."""
        RESULTS.told(connection, export_arn)

    def audit(self, actor: str, action: str, target: str, parameters: dict[str, Any], result: str) -> None:
        """Append who did what, when, with which parameters, and how it ended."""
        with self.engine.begin() as connection:
            connection.execute(
                insert(audit_log).values(
                    at=utcnow(),
                    actor=actor,
                    action=action,
                    target=target,
                    parameters=json.dumps(parameters, default=str, sort_keys=True),
                    result=result,
                )
            )

    def audit_entries(self, limit: int = 100, action: str | None = None) -> list[dict[str, Any]]:
        """The newest audit entries, parameters decoded."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if action:
            query = query.where(audit_log.c.action == action)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [{**row, "parameters": json.loads(row["parameters"])} for row in rows]

    def _one(self, condition: Any) -> ExportJob | None:
        found = self._many(condition, limit=1)
        return found[0] if found else None

    def _many(self, condition: Any, *, limit: int | None = None, newest_first: bool = True) -> list[ExportJob]:
        order = exports.c.created_at.desc() if newest_first else exports.c.created_at.asc()
        query = select(exports).order_by(order)
        if condition is not None:
            query = query.where(condition)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return list(_jobs(connection.execute(query).mappings()))


def _held_moment(job: ExportJob) -> datetime:
    """The moment of the table an export holds: an incremental's window end, a full export's time, else its start."""
    return job.export_to or job.export_time or job.started_at or job.created_at or datetime.min.replace(tzinfo=UTC)


def _jobs(rows: Iterable[Any]) -> Iterable[ExportJob]:
    for row in rows:
        values = {k: row[k] for k in JOB_FIELDS}
        values["status"] = ExportStatus(values["status"])
        values["export_type"] = ExportType(values["export_type"])
        values["export_format"] = ExportFormat(values["export_format"])
        yield ExportJob(**values)
