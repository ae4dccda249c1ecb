"""ISO-8601 in and out: timezone-aware UTC inside, `2026-01-14T10:18:50Z` in messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.errors import UsageError

ISO_EXAMPLE = "2026-01-14T10:18:50Z"


def utcnow() -> datetime:
    """The host's clock as timezone-aware UTC (the store's clock on SQLite; PostgreSQL has its own)."""
    return datetime.now(UTC)


def parse_time(text: str, option: str) -> datetime:
    """Parse an ISO-8601 time; one without a zone is taken as UTC."""
    cleaned = text.strip()
    try:
        value = datetime.fromisoformat(cleaned.replace("z", "Z"))
    except ValueError:
        raise UsageError(
            f"`{option}={text}` is not an ISO-8601 time. Write it like `{option}={ISO_EXAMPLE}` "
            "(UTC; an offset such as +02:00 also works)."
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


DURATION = re.compile(r"^(?:(?P<h>\d{1,4})h)?(?:(?P<m>\d{1,5})m)?(?:(?P<s>\d{1,6})s)?$")


def parse_duration(text: str, option: str) -> float:
    """`45m`, `2h`, `1h30m` or `90s` in seconds; a UsageError saying how to write it (`option` names it)."""
    match = DURATION.match(text.strip().lower())
    if match is None or not any(match.groupdict().values()):
        raise UsageError(f"`{option}=` is a duration like `45m`, `2h` or `1h30m`, not `{text[:40]}`.")
    hours, minutes, seconds = (int(match[name] or 0) for name in ("h", "m", "s"))
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise UsageError(f"`{option}=` must be longer than zero.")
    return float(total)
