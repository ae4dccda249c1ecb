"""The stand-ins' clock: every time they record or compare (write times, PITR windows, export times, pacing) comes
from one `Callable[[], datetime]` in UTC, so a test can set it back to seed history and move it forward."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, for the demo."""
    return datetime.now(UTC)


class SettableClock:
    """A clock only its owner moves (`set`, `advance`); safe to read from the front's threads."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the stand-in clock keeps timezone-aware UTC times")
        self._now = now.astimezone(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, now: datetime) -> None:
        with self._lock:
            self._now = now.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        """Move forward by a `timedelta(**delta)`; returns the new time."""
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


def micros(moment: datetime) -> int:
    """A time as whole microseconds since the epoch (export records' `WriteTimestampMicros`)."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)


def from_epoch_seconds(value: float) -> datetime:
    """A JSON timestamp as botocore sends it (seconds since the epoch, maybe fractional)."""
    return from_micros(round(value * 1_000_000))


def epoch_seconds(moment: datetime) -> float:
    """A time as botocore reads it from a JSON answer."""
    return micros(moment) / 1_000_000


class SeedingClock:
    """The real time, except while a past moment is set (`seed_at`): the demo writes its tables' history hours in
    the past through the front, then lets the clock follow the real time again (`resume`), so the bot's own clock
    and the stand-ins' agree while it runs."""

    def __init__(self) -> None:
        self._seeding: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._seeding if self._seeding is not None else datetime.now(UTC)

    def seed_at(self, moment: datetime) -> None:
        """Stamp the writes that follow with `moment` (never later than now: history is written in time order)."""
        if moment.tzinfo is None:
            raise ValueError("the stand-in clock keeps timezone-aware UTC times")
        with self._lock:
            self._seeding = min(moment.astimezone(UTC), datetime.now(UTC))

    def resume(self) -> None:
        """Follow the real time again."""
        with self._lock:
            self._seeding = None
