"""Settable clocks for the code that takes one: the database's (claims, heartbeats, leases) and a monotonic one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

START = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)


class SettableDatabaseClock:
    """Stands in for the database's clock (PostgreSQL's clock_timestamp()): every store that shares a database in a
    test shares one of these, and the test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self, connection: Connection) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self.now += timedelta(**delta)


class SettableMonotonic:
    """Stands in for time.monotonic: only the test moves it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
