"""Ports of the scheduling use cases: cron arithmetic (scheduler/ implements it) and reporting (handlers/)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.background.notes import Delivery, NoteStamp
from bot.schedules.models import Digest, RunReport

# The cron dialect every CronCalendar reads, for help and error texts.
CRON_HELP = (
    'Write five fields "minute hour day-of-month month day-of-week" in quotes, e.g. cron="0 2 * * *" (02:00 '
    'every day), cron="30 1 * * 1-5" (01:30 Monday to Friday) or cron="0 */6 * * *" (every 6 hours); '
    "day-of-week 0 or 7 is Sunday. A sixth, leading field gives seconds."
)


class CronCalendar(Protocol):
    """Cron expressions in a time zone, as the scheduler will run them."""

    def check(self, cron: str, timezone: str) -> None:
        """Raise UsageError saying how to write the cron expression or the zone when either is wrong."""
        ...

    def next_fire(self, cron: str, timezone: str, after: datetime) -> datetime | None:
        """The first fire strictly after `after` (UTC), None when there is none."""
        ...

    def latest_fire(self, cron: str, timezone: str, at: datetime) -> datetime | None:
        """The last fire at or before `at` (UTC), None when there was none in the past eight years."""
        ...

    def fires(self, cron: str, timezone: str, start: datetime, end: datetime, limit: int) -> list[datetime]:
        """Fires in (start, end], at most `limit` of them."""
        ...


class ScheduleNotifier(Protocol):
    """Tells a channel (`stamp.target`) about runs and posts the digest, once each."""

    def run_report(self, report: RunReport, stamp: NoteStamp) -> Delivery:
        """A run that failed before exporting, was skipped, or has something to say (catch-up, chain broken, the
        tables of a many-table fire)."""
        ...

    def digest(self, digest: Digest, stamp: NoteStamp) -> Delivery:
        """The daily digest."""
        ...
