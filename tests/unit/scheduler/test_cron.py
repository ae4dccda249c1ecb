"""The cron calendar against a brute-force oracle written here from cron's rules, not from the implementation.

The oracle walks a window minute by minute (second by second for 6-field expressions), reads the zone's wall
clock and asks each field whether it allows the value, with cron's rules: weekdays count from Sunday = 0 (7 is
Sunday too), and day-of-month OR day-of-week when both are restricted (a field starting with `*` is not). Zones
without clock changes are used: on the nights clocks change, APScheduler's own rules apply.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given
from hypothesis import strategies as st

from bot.errors import UsageError
from bot.schedules.ports import CRON_HELP
from scheduler.cron import ApsCronCalendar, cron_trigger

CALENDAR = ApsCronCalendar()
ZONES = ("UTC", "Asia/Kolkata", "Asia/Tokyo", "Pacific/Kiritimati")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# field: (first, last, the end of an open `*` or `N/step`, names)
FIELDS = {
    "second": (0, 59, 59, ()),
    "minute": (0, 59, 59, ()),
    "hour": (0, 23, 23, ()),
    "day": (1, 31, 31, ()),
    "month": (1, 12, 12, MONTHS),
    "weekday": (0, 7, 6, WEEKDAYS),
}
MINUTE = timedelta(minutes=1)
START = datetime(2026, 12, 1, tzinfo=UTC)


def allows(text: str, field: str, value: int) -> bool:
    """Whether one field's text allows a value (weekday: Sunday is asked as both 0 and 7)."""
    first, _, open_end, names = FIELDS[field]
    for item in text.lower().split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            low, high = first, open_end
        elif "-" in base:
            low, high = (names.index(p) + first if p in names else int(p) for p in base.split("-"))
        else:
            low = names.index(base) + first if base in names else int(base)
            high = open_end if step_text else low
        candidates = (value, 7) if field == "weekday" and value == 0 else (value,)
        if any(low <= v <= high and (v - low) % step == 0 for v in candidates):
            return True
    return False


@functools.lru_cache(maxsize=4096)
def allowed(text: str, field: str) -> frozenset[int]:
    first, last, _, _ = FIELDS[field]
    return frozenset(v for v in range(first, last + 1) if allows(text, field, v))


def wall_matches(cron: str, wall: datetime) -> bool:
    fields = cron.split()
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    by_day, by_weekday = wall.day in allowed(day, "day"), (wall.weekday() + 1) % 7 in allowed(weekday, "weekday")
    either = not day.startswith("*") and not weekday.startswith("*")
    return (
        wall.second in allowed(second, "second")
        and wall.minute in allowed(minute, "minute")
        and wall.hour in allowed(hour, "hour")
        and wall.month in allowed(month, "month")
        and ((by_day or by_weekday) if either else (by_day and by_weekday))
    )


def oracle_fires(cron: str, timezone: str, start: datetime, end: datetime) -> list[datetime]:
    """Every fire in (start, end], tick by tick."""
    tick = timedelta(seconds=1) if len(cron.split()) == 6 else MINUTE
    tz = ZoneInfo(timezone)
    moment = start.replace(second=0, microsecond=0) + tick
    fires = []
    while moment <= end:
        if moment > start and wall_matches(cron, moment.astimezone(tz).replace(tzinfo=None)):
            fires.append(moment)
        moment += tick
    return fires


@st.composite
def field_text(draw: st.DrawFn, field: str) -> str:
    first, last, open_end, names = FIELDS[field]
    span = open_end - first + 1

    def value() -> str:
        number = draw(st.integers(first, last))
        if names and number - first < len(names) and draw(st.booleans()):
            return names[number - first]
        return str(number)

    def item() -> str:
        kind = draw(st.sampled_from(("star", "star-step", "value", "range", "range-step", "value-step")))
        if kind == "star":
            return "*"
        if kind == "star-step":
            return f"*/{draw(st.integers(1, span))}"
        if kind == "value":
            return value()
        low = draw(st.integers(first, last))
        high = draw(st.integers(low, last))
        if kind == "value-step":
            return f"{min(low, open_end)}/{draw(st.integers(1, span))}"
        step = f"/{draw(st.integers(1, span))}" if kind == "range-step" else ""
        return f"{low}-{high}{step}"

    return ",".join(item() for _ in range(draw(st.integers(1, 3))))


@st.composite
def expressions(draw: st.DrawFn, seconds: bool = False) -> str:
    """Five (or six) fields; hours, months and the day fields are often `*`, so fires are frequent enough to see."""
    often_star = {"hour": 2, "month": 2, "day": 3, "weekday": 3}
    parts = []
    for field in ("second", "minute", "hour", "day", "month", "weekday"):
        if field == "second" and not seconds:
            continue
        star = often_star.get(field)
        parts.append("*" if star and draw(st.integers(1, star)) == 1 else draw(field_text(field)))
    return " ".join(parts)


def readable(cron: str) -> bool:
    """Whether the calendar takes the expression (the strategies also write ones APScheduler refuses)."""
    try:
        cron_trigger(cron, "UTC")
    except UsageError:
        return False
    return True


windows = st.tuples(
    st.sampled_from(ZONES), st.datetimes(datetime(2024, 1, 1), datetime(2031, 12, 31), timezones=st.just(UTC))
)


@given(expressions(), windows)
def test_the_calendar_fires_exactly_when_the_oracle_does(cron: str, window: tuple[str, datetime]) -> None:
    assume(readable(cron))
    timezone, start = window
    end = start + timedelta(days=1)
    assert CALENDAR.fires(cron, timezone, start, end, 10_000) == oracle_fires(cron, timezone, start, end)


@given(expressions(seconds=True), windows)
def test_six_field_expressions_fire_on_the_seconds_the_oracle_finds(cron: str, window: tuple[str, datetime]) -> None:
    assume(readable(cron))
    timezone, start = window
    end = start + timedelta(minutes=30)
    assert CALENDAR.fires(cron, timezone, start, end, 20_000) == oracle_fires(cron, timezone, start, end)


def trigger_fires(cron: str, timezone: str, start: datetime, end: datetime) -> Iterator[datetime]:
    """What APScheduler would fire: the trigger asked as the scheduler asks it (previous fire, now)."""
    trigger = cron_trigger(cron, timezone)
    fire = trigger.get_next_fire_time(None, start + timedelta(microseconds=1))
    while fire is not None and fire <= end:
        yield fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))


@given(expressions(), windows)
def test_the_scheduler_s_trigger_fires_when_the_calendar_says(cron: str, window: tuple[str, datetime]) -> None:
    assume(readable(cron))
    timezone, start = window
    end = start + timedelta(days=1)
    fires = CALENDAR.fires(cron, timezone, start, end, 10_000)
    assert list(trigger_fires(cron, timezone, start, end)) == fires


@given(expressions(), windows)
def test_the_latest_fire_is_at_or_before_now_and_nothing_fires_between(cron: str, window: tuple[str, datetime]) -> None:
    assume(readable(cron))
    timezone, now = window
    latest = CALENDAR.latest_fire(cron, timezone, now)
    assume(latest is not None and now - latest < timedelta(days=1))
    assert latest is not None
    following = CALENDAR.next_fire(cron, timezone, latest)
    assert following is not None and following > now
    assert oracle_fires(cron, timezone, latest - MINUTE, now)[-1] == latest


CRON_CHARACTERS = st.sampled_from([*"0123456789*/,-? ", "mon", "jan", "L", "#", "W", "７", "x", "\t", "60"])


@given(st.one_of(st.text(max_size=40), st.lists(CRON_CHARACTERS, max_size=20).map("".join), expressions()))
def test_any_text_is_either_a_schedule_that_fires_or_a_usage_error_with_the_help(cron: str) -> None:
    outcome: str | datetime | None
    try:
        CALENDAR.check(cron, "UTC")
        outcome = CALENDAR.next_fire(cron, "UTC", START)
    except UsageError as error:
        outcome = error.message
    assert CRON_HELP in outcome if isinstance(outcome, str) else outcome is not None


def test_day_of_month_and_day_of_week_both_restricted_fire_on_either_as_in_cron() -> None:
    fires = CALENDAR.fires("0 2 1 * 1", "UTC", START, START + timedelta(days=40), 10)
    assert [f"{f:%a %d}" for f in fires] == ["Tue 01", "Mon 07", "Mon 14", "Mon 21", "Mon 28", "Fri 01", "Mon 04"]


def test_a_day_field_starting_with_a_star_restricts_with_and_as_in_cron() -> None:
    fires = CALENDAR.fires("0 2 */2 * 1", "UTC", START, START + timedelta(days=40), 10)
    assert [f"{f:%a %d}" for f in fires] == ["Mon 07", "Mon 21"]  # Mondays that are odd days
