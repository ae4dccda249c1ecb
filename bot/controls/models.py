"""What an auditor checks of each table: five controls, each passed, failed, not required or unknown, with the
proof (which export, which drill, when) that an evidence file lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Control(StrEnum):
    """The controls, in the order they are listed."""

    BACKUP_EVERY = "backup frequency"
    RETENTION = "retention"
    IMMUTABLE = "immutable copy"
    CROSS_ACCOUNT = "copy in another account"
    RESTORE_PROVEN = "restore proven"


class Outcome(StrEnum):
    """A control's result: NOT_REQUIRED when the table has no target for it, UNKNOWN when it could not be read."""

    PASS = "pass"  # noqa: S105 (an outcome, not a password)
    FAIL = "fail"
    NOT_REQUIRED = "not required"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Proof:
    """What a result rests on: the export or drill that shows it, where its files are, and when."""

    export_id: str | None = None
    export_arn: str | None = None
    drill_id: str | None = None
    at: datetime | None = None
    location: str | None = None  # s3://bucket/prefix/ of the export, for the bucket's controls


@dataclass(frozen=True)
class ControlResult:
    """One control of one table: the target, the outcome, why (in words), and the proof."""

    control: Control
    target: str  # "every 24h", "at least 35 days", "required"; "" when not required
    outcome: Outcome
    reason: str
    proof: Proof = Proof()


@dataclass(frozen=True)
class TableControls:
    """Every control of one table; `problem` says why none could be read (the table itself could not)."""

    key: str
    alias: str | None
    region: str
    account: str | None  # the table's AWS account id (None when it could not be learnt)
    results: tuple[ControlResult, ...]

    @property
    def required(self) -> tuple[ControlResult, ...]:
        """The controls the table has a target for."""
        return tuple(r for r in self.results if r.outcome != Outcome.NOT_REQUIRED)

    @property
    def passed(self) -> int:
        """How many required controls pass."""
        return sum(r.outcome == Outcome.PASS for r in self.results)

    @property
    def short(self) -> tuple[ControlResult, ...]:
        """The required controls that do not pass (failed first, then unknown)."""
        return tuple(sorted((r for r in self.required if r.outcome != Outcome.PASS), key=lambda r: r.outcome))


@dataclass(frozen=True)
class ControlsReport:
    """The controls of every table surveyed, as of one moment."""

    at: datetime
    tables: tuple[TableControls, ...]

    def of(self, key: str, region: str) -> TableControls | None:
        """The controls of one table (by key and region), or None when it has none required or was not read."""
        return next((t for t in self.tables if (t.key, t.region) == (key, region)), None)

    def short(self) -> tuple[TableControls, ...]:
        """Tables with a required control that does not pass, most failures first."""
        flagged = [t for t in self.tables if t.short]
        return tuple(sorted(flagged, key=lambda t: (-len(t.short), t.key)))


class Keeping(Protocol):
    """What the controls read of a backup bucket (bot.retention.buckets.BucketKeeping has these fields)."""

    @property
    def bucket(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def expiration_days(self) -> int | None: ...
    @property
    def object_lock_mode(self) -> str | None: ...
    @property
    def object_lock_days(self) -> int | None: ...
    @property
    def problem(self) -> str | None: ...
