"""Schedules and their runs in the database, the source of truth the scheduler is rebuilt from.

A fire is claimed work (bot.background.claims, kind `fire`); its run row is opened inside the claim, before any AWS
call, and (schedule_id, fire_time) is unique, so a fire that is duplicated (two replicas, a retried job, a catch-up
racing the cron) has one run and starts one export. The run's writes take the claim's fenced transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.db import UtcDateTime, database_now, insert_of, metadata, transaction
from bot.models import ExportStatus
from bot.outbox import Outbox, OutboxState
from bot.schedules.models import (
    DIGEST_ID,
    ExportPlan,
    RunKind,
    RunState,
    Schedule,
    ScheduleRun,
    ScheduleSource,
    ScheduleType,
)
from bot.store import exports
from bot.timefmt import utcnow

schedules = Table(
    "schedules",
    metadata,
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
    Column("created_at", UtcDateTime(), nullable=False),
    Column("active_since", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False, default=1),
)

schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule_id", String(64), nullable=False),
    Column("fire_time", UtcDateTime(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("holder", String(128), nullable=False),
    Column("claimed_at", UtcDateTime(), nullable=False),
    Column("requested_by", String(64)),
    Column("export_type", String(32)),
    Column("export_from", UtcDateTime()),
    Column("export_to", UtcDateTime()),
    Column("export_at", UtcDateTime()),
    Column("plan_note", Text),
    Column("export_arn", String(512)),
    Column("error", Text),
    Column("fix", Text),
    Column("note_state", String(16), nullable=False, default=OutboxState.NONE),
    Column("note_claimed_at", UtcDateTime()),  # unused since notes are claimed work (bot.background.notes)
    Column("late", Boolean, nullable=False, default=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("schedule_id", "fire_time", name="uq_schedule_runs_fire"),
)

REPORTS = Outbox("run", schedule_runs.c.id, schedule_runs.c.note_state, parse=int)
SCHEDULE_FIELDS = (
    "id",
    "table_key",
    "cron",
    "timezone",
    "export_type",
    "options",
    "channel",
    "source",
    "paused",
    "created_by",
    "created_at",
    "active_since",
    "expected_hours",
    "version",
)


class ScheduleStore:
    """Repository for schedules and runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------------------------------ schedules

    def add(self, schedule: Schedule) -> bool:
        """Insert a schedule; False when its id is taken."""
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(schedules).values(**_row(schedule), updated_at=utcnow()))
        except IntegrityError:
            return False
        return True

    def get(self, schedule_id: str) -> Schedule | None:
        """One schedule by id."""
        with self.engine.connect() as connection:
            row = connection.execute(select(schedules).where(schedules.c.id == schedule_id)).mappings().first()
        return _schedule(row) if row else None

    def all(self) -> list[Schedule]:
        """Every schedule, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(schedules).order_by(schedules.c.created_at, schedules.c.id)).mappings()
            return [_schedule(row) for row in rows]

    def versions(self) -> dict[str, int]:
        """id → version of every schedule: cheap enough for the scheduler to poll for changes."""
        with self.engine.connect() as connection:
            return {row.id: row.version for row in connection.execute(select(schedules.c.id, schedules.c.version))}

    def remove(self, schedule_id: str) -> bool:
        """Delete a schedule (its runs and exports stay for the record)."""
        with self.engine.begin() as connection:
            return connection.execute(delete(schedules).where(schedules.c.id == schedule_id)).rowcount == 1

    def set_paused(self, schedule_id: str, paused: bool, now: datetime) -> bool:
        """Pause or resume; resuming restarts the catch-up baseline so paused fires are not made up. CAS on state."""
        values: dict[str, Any] = {"paused": paused, "updated_at": now, "version": schedules.c.version + 1}
        if not paused:
            values["active_since"] = now
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(schedules).where(schedules.c.id == schedule_id, schedules.c.paused != paused).values(**values)
            ).rowcount
        return changed == 1

    def put_config(self, schedule: Schedule) -> str:
        """Insert or update a config-declared schedule, keeping its paused flag: "added", "changed" or "same"."""
        current = self.get(schedule.id)
        if current is None:
            return "added" if self.add(schedule) else self.put_config(schedule)
        if current.source != schedule.source:
            raise ValueError(f"schedule id {schedule.id} is already used by a schedule added from Slack")
        wanted = replace(
            schedule,
            paused=current.paused,
            created_at=current.created_at,
            active_since=current.active_since,
            version=current.version,
        )
        if wanted == current:
            return "same"
        values = {k: v for k, v in _row(wanted).items() if k not in {"id", "paused", "created_at", "active_since"}}
        values["version"] = schedules.c.version + 1
        with self.engine.begin() as connection:
            connection.execute(
                update(schedules)
                .where(schedules.c.id == schedule.id, schedules.c.version == current.version)
                .values(**values, updated_at=utcnow())
            )
        return "changed"

    # ----------------------------------------------------------------------------------------------- runs

    def open_run(
        self,
        connection: Connection,
        schedule_id: str,
        fire_time: datetime,
        kind: str,
        holder: str,
        *,
        requested_by: str | None = None,
    ) -> ScheduleRun:
        """The fire's run, opened now (CLAIMED: planning and starting) or as an earlier holder left it (taken over
        by `holder` while still CLAIMED), in the claim's fenced transaction."""
        now = database_now(connection)
        values = {
            "schedule_id": schedule_id,
            "fire_time": fire_time,
            "kind": kind,
            "state": RunState.CLAIMED,
            "holder": holder,
            "claimed_at": now,
            "requested_by": requested_by,
            "note_state": OutboxState.NONE,
            "late": False,
            "updated_at": now,
        }
        insert_run = insert_of(connection)(schedule_runs).values(**values)
        connection.execute(
            insert_run.on_conflict_do_update(
                index_elements=["schedule_id", "fire_time"],
                set_={"holder": holder, "updated_at": now},
                where=schedule_runs.c.state == RunState.CLAIMED,
            )
        )
        query = select(schedule_runs).where(
            schedule_runs.c.schedule_id == schedule_id, schedule_runs.c.fire_time == fire_time
        )
        return _run(connection.execute(query).mappings().one())

    def find_run(self, schedule_id: str, fire_time: datetime) -> ScheduleRun | None:
        """The run of one fire."""
        return self._one_run(and_(schedule_runs.c.schedule_id == schedule_id, schedule_runs.c.fire_time == fire_time))

    def get_run(self, run_id: int) -> ScheduleRun | None:
        """One run by id."""
        return self._one_run(schedule_runs.c.id == run_id)

    def save_plan(self, run_id: int, plan: ExportPlan, *, connection: Connection | None = None) -> None:
        """Record what the run will export before asking AWS, so a retry asks for the very same export."""
        self._update_run(
            run_id,
            connection,
            export_type=plan.export_type,
            export_from=plan.since,
            export_to=plan.until,
            export_at=plan.at,
            plan_note=plan.note,
        )

    def finish_run(
        self, run_id: int, state: str, *, note: bool, connection: Connection | None = None, **fields: Any
    ) -> None:
        """Started / failed / skipped / done; `note` owes the team a message about it (in the same transaction)."""
        with transaction(self.engine, connection) as begun:
            self._update_run(run_id, begun, state=state, **fields)
            if note:
                REPORTS.owe(begun, run_id)

    def runs(self, schedule_id: str | None = None, limit: int = 200) -> list[ScheduleRun]:
        """Runs, newest fire first."""
        query = select(schedule_runs).order_by(schedule_runs.c.fire_time.desc(), schedule_runs.c.id.desc())
        if schedule_id is not None:
            query = query.where(schedule_runs.c.schedule_id == schedule_id)
        with self.engine.connect() as connection:
            return [_run(row) for row in connection.execute(query.limit(limit)).mappings()]

    def last_runs(self, schedule_ids: Iterable[str]) -> dict[str, ScheduleRun]:
        """The newest run of each schedule."""
        ids = list(schedule_ids)
        if not ids:
            return {}
        newest = (
            select(schedule_runs.c.schedule_id, func.max(schedule_runs.c.id).label("id"))
            .where(schedule_runs.c.schedule_id.in_(ids))
            .group_by(schedule_runs.c.schedule_id)
            .subquery()
        )
        query = select(schedule_runs).join(newest, schedule_runs.c.id == newest.c.id)
        with self.engine.connect() as connection:
            return {row["schedule_id"]: _run(row) for row in connection.execute(query).mappings()}

    def last_fire(self, schedule_id: str) -> datetime | None:
        """The newest cron fire whose run finished (manual runs are not fires of the cron; a run still CLAIMED is
        claimed work, finished or reported by whoever holds or takes it over)."""
        query = select(func.max(schedule_runs.c.fire_time)).where(
            schedule_runs.c.schedule_id == schedule_id,
            schedule_runs.c.kind != RunKind.MANUAL,
            schedule_runs.c.state != RunState.CLAIMED,
        )
        with self.engine.connect() as connection:
            value: datetime | None = connection.execute(query).scalar()
        return value

    def running_with_deadline(self) -> list[tuple[ScheduleRun, float]]:
        """Started runs whose export still runs, of schedules with `expected_hours`, not yet reported late."""
        query = (
            select(schedule_runs, schedules.c.expected_hours)
            .join(schedules, schedules.c.id == schedule_runs.c.schedule_id)
            .join(exports, exports.c.export_arn == schedule_runs.c.export_arn)
            .where(
                schedules.c.expected_hours.is_not(None),
                schedule_runs.c.state == RunState.STARTED,
                schedule_runs.c.late.is_(False),
                exports.c.status == ExportStatus.IN_PROGRESS,
            )
        )
        with self.engine.connect() as connection:
            return [(_run(row), float(row["expected_hours"])) for row in connection.execute(query).mappings()]

    def mark_late(self, run_id: int) -> bool:
        """Flag a run as late and owe its message, once."""
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(schedule_runs)
                .where(schedule_runs.c.id == run_id, schedule_runs.c.late.is_(False))
                .values(late=True, updated_at=utcnow())
            ).rowcount
            if changed == 1:
                REPORTS.owe(connection, run_id)
        return changed == 1

    def unposted_notes(self) -> list[ScheduleRun]:
        """Runs whose message to the team is owed and not posted yet."""
        return self._many_runs(schedule_runs.c.note_state == OutboxState.PENDING)

    def note_posted(self, connection: Connection, subject: str) -> None:
        """A run's message was posted (in the transaction that settles its note)."""
        REPORTS.told(connection, subject)

    # ------------------------------------------------------------------------------------------- helpers

    def _update_run(self, run_id: int, connection: Connection | None, **values: Any) -> None:
        with transaction(self.engine, connection) as begun:
            begun.execute(
                update(schedule_runs).where(schedule_runs.c.id == run_id).values(**values, updated_at=utcnow())
            )

    def _one_run(self, condition: Any) -> ScheduleRun | None:
        found = self._many_runs(condition, limit=1)
        return found[0] if found else None

    def _many_runs(self, condition: Any, limit: int | None = None) -> list[ScheduleRun]:
        query = select(schedule_runs).where(condition).order_by(schedule_runs.c.id)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [_run(row) for row in connection.execute(query).mappings()]


def _row(schedule: Schedule) -> dict[str, Any]:
    row = {name: getattr(schedule, name) for name in SCHEDULE_FIELDS}
    row["table_text"] = schedule.table
    return row


def _schedule(row: Any) -> Schedule:
    values = {name: row[name] for name in SCHEDULE_FIELDS}
    values["options"] = dict(row["options"] or {})
    values["export_type"] = ScheduleType(values["export_type"])
    values["source"] = ScheduleSource(values["source"])
    return Schedule(table=row["table_text"], **values)


def _run(row: Any) -> ScheduleRun:
    plan = None
    if row["export_type"]:
        plan = ExportPlan(row["export_type"], row["export_from"], row["export_to"], row["export_at"], row["plan_note"])
    return ScheduleRun(
        id=row["id"],
        schedule_id=row["schedule_id"],
        fire_time=row["fire_time"],
        kind=RunKind(row["kind"]),
        state=RunState(row["state"]),
        holder=row["holder"],
        claimed_at=row["claimed_at"],
        requested_by=row["requested_by"],
        plan=plan,
        export_arn=row["export_arn"],
        error=row["error"],
        fix=row["fix"],
        note_state=row["note_state"],
        late=bool(row["late"]),
    )


__all__ = ["DIGEST_ID", "ScheduleStore", "schedule_runs", "schedules"]
