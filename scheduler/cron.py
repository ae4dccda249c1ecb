"""Cron expressions as APScheduler 3 runs them, read with standard cron's rules.

Two differences from standard (Vixie) cron are bridged here, with APScheduler's own triggers rather than a
cron engine of our own:
- APScheduler 3's `CronTrigger.from_crontab` counts weekdays from Monday = 0, while cron counts from Sunday = 0
  (7 is Sunday too): `0 9 * * 1` would fire on Tuesdays. Weekday fields are therefore rewritten to names first.
- APScheduler ANDs day-of-month and day-of-week; cron ORs them when both are restricted (neither starts with
  `*` or `?`): `0 2 1 * 1` fires on the 1st *and* on every Monday. Such an expression becomes an `OrTrigger` of
  two CronTriggers, one per day field, so backups are not silently skipped.
An optional sixth, leading field gives seconds (as in Quartz or Spring), which short test schedules use.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.errors import UsageError
from bot.schedules.ports import CRON_HELP
from bot.words import nearest

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
TZ_HELP = "Use an IANA time zone name, e.g. tz=UTC, tz=Europe/Paris or tz=America/New_York."
LOOKBACKS = (
    timedelta(seconds=2),
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=32),
    timedelta(days=366),
    timedelta(days=8 * 366),
)


def zone(timezone: str) -> ZoneInfo:
    """An IANA zone, or a UsageError naming the nearest one (`Europe/Pairs` → `Europe/Paris`) and how to write one."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        guess = nearest(timezone, zoneinfo.available_timezones())
        hint = f" Did you mean `tz={guess}`?" if guess else ""
        raise UsageError(f"`tz={timezone}` is not a time zone I know.{hint} {TZ_HELP}") from None


@functools.lru_cache(maxsize=512)
def cron_trigger(cron: str, timezone: str) -> BaseTrigger:
    """The APScheduler trigger for a 5-field (or 6-field, seconds first) cron expression in a zone."""
    tz = zone(timezone)
    fields = cron.split()
    if len(fields) not in (5, 6):
        raise UsageError(f'`cron="{cron}"` has {len(fields)} fields, not 5. {CRON_HELP}')
    second = fields.pop(0) if len(fields) == 6 else "0"
    try:
        minute, hour, day, month, weekday = (_quartz_any(field) for field in fields)
        day_of_week = _weekdays(weekday)
        CronTrigger.from_crontab(f"{minute} {hour} {day} {month} {day_of_week}", timezone=tz)  # validated as crontab
        common = {"second": second, "minute": minute, "hour": hour, "month": month, "timezone": tz}
        if _restricted(day) and _restricted(weekday):
            return OrTrigger([CronTrigger(day=day, **common), CronTrigger(day_of_week=day_of_week, **common)])
        return CronTrigger(day=day, day_of_week=day_of_week, **common)
    except ValueError as exc:
        raise UsageError(f'`cron="{cron}"` is not a cron expression I can read ({exc}). {CRON_HELP}') from None


def _quartz_any(field: str) -> str:
    """Quartz's `?` ("any") in a day field means what cron's `*` means."""
    return "*" if field == "?" else field


def _restricted(field: str) -> bool:
    """Whether a day field restricts the days, in cron's sense: it does not start with `*`."""
    return not field.startswith("*")


def _weekdays(text: str) -> str:
    """Rewrite a cron day-of-week field (0/7 = Sunday, names, ranges, steps, lists) as APScheduler day names."""
    if text in {"*", "?"}:
        return "*"
    days: set[int] = set()
    for item in text.lower().split(","):
        base, _, step_text = item.partition("/")
        step = _number(step_text, "step") if step_text else 1
        if step < 1:
            raise ValueError(f"weekday step /{step_text} must be at least 1")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            start, end = base.split("-", 1)
            first, last = _weekday(start), _weekday(end)
        else:
            first = _weekday(base)
            last = first if not step_text else 6
        if last < first:
            raise ValueError(f"weekday range {base} runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(WEEKDAYS[day] for day in sorted(days))


def _weekday(text: str) -> int:
    """A weekday as written, 0-7 (Sunday is both 0 and 7, so `5-7` and `7-7` read as written)."""
    text = text.strip()
    if text in WEEKDAYS:
        return WEEKDAYS.index(text)
    number = _number(text, "weekday")
    if not 0 <= number <= 7:
        raise ValueError(f"weekday {text} is not 0-7 (0 and 7 are Sunday) or sun-sat")
    return number


def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{what} {text!r} is not a number")
    return int(text)


class ApsCronCalendar:
    """CronCalendar answered by APScheduler's own CronTrigger, so what `list` says is what the scheduler does."""

    def check(self, cron: str, timezone: str) -> None:
        """Raise UsageError when the expression or the zone is wrong (also when it never fires)."""
        if self.next_fire(cron, timezone, datetime.now(UTC)) is None:
            raise UsageError(f'`cron="{cron}"` never fires. {CRON_HELP}')

    def next_fire(self, cron: str, timezone: str, after: datetime) -> datetime | None:
        """The first fire strictly after `after`."""
        found = cron_trigger(cron, timezone).get_next_fire_time(None, after + timedelta(microseconds=1))
        return found.astimezone(UTC) if found is not None else None

    def latest_fire(self, cron: str, timezone: str, at: datetime) -> datetime | None:
        """The last fire at or before `at`, looking back further and further."""
        for lookback in LOOKBACKS:
            last = self.next_fire(cron, timezone, at - lookback)
            if last is None or last > at:
                continue
            while (following := self.next_fire(cron, timezone, last)) is not None and following <= at:
                last = following
            return last
        return None

    def fires(self, cron: str, timezone: str, start: datetime, end: datetime, limit: int) -> list[datetime]:
        """Fires in (start, end], at most `limit` (the first ones)."""
        found: list[datetime] = []
        moment = self.next_fire(cron, timezone, start)
        while moment is not None and moment <= end:
            found.append(moment)
            if len(found) >= limit:
                break
            moment = self.next_fire(cron, timezone, moment)
        return found
