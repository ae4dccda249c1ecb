"""What `/ddb-coverage` reports: every table the bot can see, how it is protected, and the places it cannot read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Cover(StrEnum):
    """What a schedule does for a table's coverage: only one that exports, and runs, is export coverage."""

    EXPORTS = "exports"
    PAUSED = "paused"  # an export schedule, paused: it exports nothing until resumed
    DRILLS_ONLY = "drills only"  # a drill schedule restores the latest export; it makes none


@dataclass(frozen=True)
class ScheduledPlace:
    """What one schedule covers, resolved to where it acts: an account (alias, None for the bot's own) and region,
    and one table there (None: every table of that place, a `*` or `prod:*` schedule)."""

    alias: str | None
    region: str
    table: str | None
    cover: Cover

    def covers(self, alias: str | None, region: str, table: str) -> bool:
        """Whether this schedule acts on that table: the same account, the same region, and the table (or all)."""
        return (self.alias, self.region) == (alias, region) and self.table in (None, table)


def schedule_cover(schedules: list[ScheduledPlace], alias: str | None, region: str, table: str) -> Cover | None:
    """The best a table's schedules do for it (exports, else paused, else drills only); None: no schedule at all."""
    found = {s.cover for s in schedules if s.covers(alias, region, table)}
    return next((cover for cover in Cover if cover in found), None)


@dataclass(frozen=True)
class TableCoverage:
    """One table's protection, as read now (PITR, deletion protection, the last completed export, schedules)."""

    key: str  # `alias:name` or `name`, as commands take it
    alias: str | None
    region: str
    pitr_enabled: bool | None
    recovery_days: int | None
    deletion_protection: bool | None
    last_export: datetime | None
    scheduled: bool  # a running export schedule covers it (same account, region and table)
    problem: str | None = None  # the table could not be read: why
    in_default_region: bool = True  # the key alone names it (no `region=` was needed to find it)
    backup_protected: bool | None = None  # AWS Backup protects it (ListProtectedResources); None: not checked
    drill_issue: str | None = None  # its last restore drill failed or is too old (bot.drills.drill_flag)
    schedule_note: str | None = None  # not scheduled, but a schedule exists: "paused" or "drills only"

    def issues(self, now: datetime, stale_after: timedelta) -> tuple[str, ...]:
        """What needs attention, worst first (empty: the table is covered)."""
        if self.problem is not None:
            return ("could not be read",)
        found = []
        if not self.pitr_enabled:
            found.append("PITR off")
        if self.last_export is None:
            found.append("never exported")
        elif now - self.last_export > stale_after:
            found.append(f"last export {_age(now - self.last_export)} ago")
        if not self.scheduled:
            found.append(f"no schedule ({self.schedule_note})" if self.schedule_note else "no schedule")
        if self.drill_issue:
            found.append(self.drill_issue)
        if self.deletion_protection is False:
            found.append("deletion protection off")
        return tuple(found)

    def severity(self, now: datetime, stale_after: timedelta) -> int:
        """Ordering weight: unreadable and PITR off first, then stale or missing exports, then the rest."""
        weights = {"could not be read": 100, "PITR off": 50, "never exported": 20, "no schedule": 5}
        weights["last restore drill failed"] = 15
        return sum(
            weights.get(issue.split(" (", 1)[0], 10 if issue.startswith("last export") else 1)
            for issue in self.issues(now, stale_after)
        )


@dataclass(frozen=True)
class Unreadable:
    """An account or region the bot could not list, and what to do about it."""

    account: str  # the alias, or "this account"
    region: str
    reason: str
    fix: str | None
    what: str = "tables"  # what could not be read there: "tables", or "AWS Backup" (the tables still are)


@dataclass(frozen=True)
class CoverageReport:
    """Every table of the places surveyed, and the places that could not be read."""

    at: datetime
    tables: tuple[TableCoverage, ...]
    unreadable: tuple[Unreadable, ...]
    stale_after: timedelta
    places: int

    def needing_attention(self) -> list[TableCoverage]:
        """Tables with at least one issue, worst first, then by name."""
        flagged = [t for t in self.tables if t.issues(self.at, self.stale_after)]
        return sorted(flagged, key=lambda t: (-t.severity(self.at, self.stale_after), t.key))

    def backup_protected(self) -> int:
        """How many tables AWS Backup protects (of those where it could be asked)."""
        return sum(t.backup_protected is True for t in self.tables)

    def count(self, issue: str) -> int:
        """How many tables have an issue starting with `issue`."""
        return sum(any(i.startswith(issue) for i in t.issues(self.at, self.stale_after)) for t in self.tables)


def _age(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:.0f} days" if days >= 2 else f"{span.total_seconds() / 3600:.0f} h"
