"""The table names of each account and region, listed once every few minutes, to answer a mistyped table with the
nearest real one ("No table `ordres` in us-east-1. Did you mean `orders`?").

Only ever used for that suggestion: a table is found or refused by DescribeTable, never by this list (a table made a
minute ago is missing here, and must still work). A listing that fails gives no suggestion, never an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from bot.aws.accounts import Place
from bot.words import nearest

logger = logging.getLogger(__name__)

TTL_SECONDS = 300.0
MAX_NAMES = 10_000  # ListTables pages of 100: a hundred pages at most, then the suggestion works on what was read


class TableNames:
    """ListTables per place, cached for `ttl` seconds (thread-safe; a stale list is listed again)."""

    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[Place, tuple[float, tuple[str, ...]]] = {}

    def nearest(self, place: Place, name: str, list_tables: Callable[[], Iterable[str]]) -> str | None:
        """The listed name closest to `name` (bot.words.nearest, as the parsers suggest options), or None."""
        return nearest(name, self._names(place, list_tables))

    def forget(self) -> None:
        """Drop every list (a test, or a table just created or deleted by the bot)."""
        with self._lock:
            self._cache.clear()

    def _names(self, place: Place, list_tables: Callable[[], Iterable[str]]) -> tuple[str, ...]:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(place)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            names: list[str] = []
            for table in list_tables():
                names.append(table)
                if len(names) >= MAX_NAMES:
                    break
        except Exception as exc:  # a suggestion is a courtesy: no list, no suggestion
            logger.info("tables.not_listed", extra={"region": place.region, "error": type(exc).__name__})
            return ()
        with self._lock:
            self._cache[place] = (now, tuple(names))
        return tuple(names)
