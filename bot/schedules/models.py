"""Records of scheduled exports: the schedule, each fire of it (a run), and what is reported about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bot.drills.models import Drill
from bot.errors import UsageError
from bot.models import ExportJob
from bot.outbox import OutboxState


class ScheduleType(StrEnum):
    """What a schedule exports each time."""

    FULL = "full"
    INCREMENTAL = "incremental"
    DRILL = "drill"  # a restore drill of the table's latest full export, not an export


class ScheduleSource(StrEnum):
    """Where a schedule was declared."""

    SLACK = "slack"
    CONFIG = "config"


class RunKind(StrEnum):
    """A cron fire, a fire missed while no replica ran the scheduler, `/ddb-schedule run`, the digest."""

    SCHEDULED = "scheduled"
    CATCH_UP = "catch-up"
    MANUAL = "manual"
    DIGEST = "digest"


class RunState(StrEnum):
    """Claimed (planning / starting), started (an export exists), failed, skipped, done (digest)."""

    CLAIMED = "claimed"
    STARTED = "started"
    FAILED = "failed"
    SKIPPED = "skipped"
    DONE = "done"


DIGEST_ID = "@digest"


@dataclass(frozen=True)
class Schedule:
    """A scheduled export as stored; `options` are validated export options as text (bucket, prefix, owner, format)."""

    id: str
    table: str
    table_key: str
    cron: str
    timezone: str
    export_type: ScheduleType
    options: dict[str, str]
    channel: str | None
    source: ScheduleSource
    paused: bool
    created_by: str
    created_at: datetime
    active_since: datetime
    expected_hours: float | None = None
    version: int = 1

    @property
    def from_config(self) -> bool:
        """Declared in DDBBOT_CONFIG_FILE: synced at start, not removable from Slack."""
        return self.source == ScheduleSource.CONFIG


@dataclass(frozen=True)
class ExportPlan:
    """What a run exports, decided once and stored so a retried run sends AWS the same request."""

    export_type: str
    since: datetime | None = None
    until: datetime | None = None
    at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class ScheduleRun:
    """One fire of a schedule; (schedule_id, fire_time) is unique, which is what stops a duplicated fire."""

    id: int
    schedule_id: str
    fire_time: datetime
    kind: RunKind
    state: RunState
    holder: str
    claimed_at: datetime
    requested_by: str | None = None
    plan: ExportPlan | None = None
    export_arn: str | None = None
    error: str | None = None
    fix: str | None = None
    note_state: str = OutboxState.NONE
    late: bool = False


@dataclass(frozen=True)
class RunReport:
    """What the team is told about a run when there is something to say before the export's result."""

    schedule: Schedule
    run: ScheduleRun
    job: ExportJob | None = None
    oncall: str | None = None


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as `/ddb-schedule list` shows it."""

    schedule: Schedule
    next_runs: tuple[datetime, ...]  # the next three fires (none while paused), so a person sees what cron means
    last_run: ScheduleRun | None
    last_export: ExportJob | None
    runs_per_month: float
    monthly_cost: Decimal | None
    cost_basis: str
    region: str | None


@dataclass(frozen=True)
class DigestTable:
    """One table's line in the daily digest."""

    table_key: str
    last_success: ExportJob | None
    next_run: datetime | None
    pitr_enabled: bool | None
    month_to_date: Decimal | None
    flags: tuple[str, ...] = ()
    error: str | None = None
    last_drill: Drill | None = None  # the table's newest restore drill


@dataclass(frozen=True)
class Digest:
    """The daily digest: every table the bot backs up or is told about."""

    at: datetime
    tables: tuple[DigestTable, ...]
    region_note: str
    coverage_changes: tuple[str, ...] = ()  # since the previous digest: tables newly without PITR, or fixed

    @property
    def flagged(self) -> tuple[DigestTable, ...]:
        """Tables that need someone's attention."""
        return tuple(t for t in self.tables if t.flags)


def schedule_type(text: str) -> ScheduleType:
    """`full` or `incremental` (any case), or a UsageError saying how to write it."""
    kind = text.lower()
    if kind not in set(ScheduleType):
        raise UsageError(f"`type={text}` is not a schedule type: use `type=full`, `type=incremental` or `type=drill`.")
    return ScheduleType(kind)
