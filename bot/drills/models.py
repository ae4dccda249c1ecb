"""A restore drill as stored: which export (or which point in time) of which table, the throwaway table, where it
stands, what it proved."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.verification.models import ExportTarget
from bot.words import plural


class DrillStatus(StrEnum):
    """queued → running → passed | failed."""

    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


SCHEDULED_REQUESTER = "schedule:"  # how a drill schedule's fire names its requester
ACTIVE_DRILLS = frozenset({DrillStatus.QUEUED, DrillStatus.RUNNING})


def new_drill_id() -> str:
    """Short and unique enough to type: `d-3fa2c1d8`."""
    return f"d-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class DrillSpec:
    """What a drill restores and into which table: an export (ImportTable), or the table as of `pitr_at`
    (RestoreTableToPointInTime), compared with `export` when an export of that very moment is known."""

    table_key: str  # the source table as the bot names it (alias:name)
    account_alias: str | None
    region: str
    export: ExportTarget | None  # the export imported; for a PITR drill, the export of that moment (None: none)
    drill_table: str
    table_snapshot: dict[str, Any]  # the source's DescribeTable fragment recorded with the export (or read at queuing)
    expected_items: int | None
    rto_seconds: float | None = None
    keep: bool = False
    sample_size: int = 1000
    pitr_at: datetime | None = None  # a PITR drill: the moment restored
    random_seconds: float | None = None  # the moment was picked at random within this long before queuing

    @property
    def from_pitr(self) -> bool:
        """True for a drill that restores a point in time rather than importing an export."""
        return self.pitr_at is not None


@dataclass(frozen=True)
class DrillResult:
    """What the drill found; `failure` is None when it passed."""

    failure: str | None = None
    items_expected: int | None = None
    items_imported: int | None = None
    sample_compared: int = 0
    differences: tuple[str, ...] = ()  # "pk=…, sk=…: attr1, attr2" (the first few)
    difference_count: int = 0
    recovery_seconds: float | None = None
    deleted: bool = False
    kept: bool = False
    left_behind: bool = False  # created, and could not be deleted (the notes say why)
    notes: tuple[str, ...] = ()
    proved: bool = False  # the checks are done and recorded; only deleting the table remains
    compared_with: str | None = None  # what the item count was compared with (a PITR drill says which, or none)


@dataclass(frozen=True)
class Drill:
    """One `/ddb-drill`."""

    id: str
    spec: DrillSpec
    requested_by: str
    channel_id: str | None
    status: DrillStatus = DrillStatus.QUEUED
    import_arn: str | None = None
    attempts: int = 0
    created_at: datetime | None = None
    finished_at: datetime | None = None
    result: DrillResult = field(default_factory=DrillResult)

    @property
    def finished(self) -> bool:
        """True once it passed or failed."""
        return self.status not in ACTIVE_DRILLS

    @property
    def scheduled(self) -> bool:
        """Queued by a drill schedule's fire, which names the requester `schedule:<id>`."""
        return self.requested_by.startswith(SCHEDULED_REQUESTER)


DRILL_MAX_AGE = timedelta(days=30)  # a table whose last passed drill is older is flagged


def drill_flag(drill: Drill | None, now: datetime, max_age: timedelta = DRILL_MAX_AGE) -> str | None:
    """What needs attention about a table's drills: its last one failed, or passed too long ago (None: fine, or
    never drilled, which is said where the last drill is shown but is not flagged)."""
    if drill is None or drill.status not in {DrillStatus.PASSED, DrillStatus.FAILED}:
        return None
    when = drill.finished_at or drill.created_at
    if drill.status == DrillStatus.FAILED:
        return "last restore drill failed"
    if when is not None and now - when > max_age:
        return f"last restore drill {plural((now - when).days, 'day')} ago"
    return None
