"""ISO-8601 in and out: timezone-aware UTC inside, `2026-01-14T10:18:50Z` in messages; times may also be written
relative to now (`-90m`, `-2h`, `-1d`), since in an incident people think "two hours ago"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.errors import UsageError

ISO_EXAMPLE = "2026-01-14T10:18:50Z"
TIME_FORMS = "an ISO-8601 time (2026-01-14T10:18:50Z) or a time relative to now (-90m, -2h, -1d, -1h30m)"
RELATIVE = re.compile(r"^-(?:(?P<d>\d{1,4})d)?(?:(?P<h>\d{1,6})h)?(?:(?P<m>\d{1,8})m)?(?:(?P<s>\d{1,10})s)?$")
MAX_RELATIVE = timedelta(days=3660)  # ten years back: anything further is a typo, not an incident


def utcnow() -> datetime:
    """The host's clock as timezone-aware UTC (the store's clock on SQLite; PostgreSQL has its own)."""
    return datetime.now(UTC)


def parse_time(text: str, option: str, now: datetime | None = None) -> datetime:
    """An ISO-8601 time (one without a zone is taken as UTC), or one relative to `now` (the host's clock when not
    given): `-90m`, `-2h`, `-1d`, `-1h30m`. The one parser of times for every command."""
    cleaned = text.strip()
    if cleaned.startswith("-"):
        return (now or utcnow()) - parse_ago(cleaned, option)
    try:
        value = datetime.fromisoformat(cleaned.replace("z", "Z"))
    except ValueError:
        raise UsageError(
            f"`{option}={text[:60]}` is not a time. Write it like `{option}={ISO_EXAMPLE}` (UTC; an offset such as "
            f"+02:00 also works) or relative to now, like `{option}=-90m`, `{option}=-2h` or `{option}=-1d`."
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_ago(text: str, option: str) -> timedelta:
    """How far back `-90m`, `-2h`, `-1d` or `-1d2h30m` reaches (days, hours, minutes, seconds, in that order)."""
    match = RELATIVE.match(text.strip().lower())
    if match is None or not any(match.groupdict().values()):
        raise UsageError(
            f"`{option}={text[:60]}` is not a time relative to now. Write minutes, hours or days back, largest "
            f"first: `{option}=-90m`, `{option}=-2h`, `{option}=-1d` or `{option}=-1h30m`."
        )
    days, hours, minutes, seconds = (int(match[name] or 0) for name in ("d", "h", "m", "s"))
    ago = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if ago > MAX_RELATIVE:
        raise UsageError(f"`{option}={text[:60]}` reaches more than ten years back; no backup goes that far.")
    return ago


def iso(value: datetime | None) -> str:
    """A UTC time as ISO-8601 with Z, to the second; an em dash when unknown."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(value: datetime) -> str:
    """A compact UTC timestamp for S3 folder names: 20260114T101850Z."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def duration(seconds: float | None) -> str:
    """Human duration: 45s, 6m 08s, 2h 03m."""
    if seconds is None:
        return "—"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def size(num_bytes: int | None) -> str:
    """Human size in binary units, as AWS bills: 1.5 GiB."""
    if num_bytes is None:
        return "—"
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


DURATION = re.compile(r"^(?:(?P<d>\d{1,4})d)?(?:(?P<h>\d{1,4})h)?(?:(?P<m>\d{1,5})m)?(?:(?P<s>\d{1,6})s)?$")


def parse_duration(text: str, option: str) -> float:
    """`45m`, `2h`, `1h30m`, `90s` or `7d` in seconds; a UsageError saying how to write it (`option` names it)."""
    match = DURATION.match(text.strip().lower())
    if match is None or not any(match.groupdict().values()):
        raise UsageError(f"`{option}=` is a duration like `45m`, `2h`, `1h30m` or `7d`, not `{text[:40]}`.")
    days, hours, minutes, seconds = (int(match[name] or 0) for name in ("d", "h", "m", "s"))
    total = days * 86400 + hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise UsageError(f"`{option}=` must be longer than zero.")
    return float(total)
