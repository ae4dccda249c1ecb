"""Statuses of an account's running imports from ListImports, shared by every restore that follows one.

Each running ImportTable restore would otherwise cost a DescribeImport per poll; with the board, N running
imports cost about N/25 ListImports pages per poll, and DescribeImport only for the ones that changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.aws.accounts import Place

logger = logging.getLogger(__name__)
PAGE_SIZE = 25
MAX_PAGES = 40  # 1,000 imports: more than AWS's 50 concurrent imports per account will ever leave running


@dataclass
class _Listing:
    statuses: dict[str, str] = field(default_factory=dict)
    fetched_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)


class ImportStatusBoard:
    """`status(client, place, import_arn)`: the ImportStatus ListImports gave at most `max_age` seconds ago."""

    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age = max_age
        self._clock = clock
        self._listings: dict[Place, _Listing] = {}
        self._lock = threading.Lock()

    def status(self, client: Any, place: Place, import_arn: str) -> str | None:
        """The listed status, or None when the import was not listed (new, too old) or ListImports failed."""
        with self._lock:
            listing = self._listings.setdefault(place, _Listing())
        with listing.lock:  # one refresh per place at a time; the others then read what it found
            if self._clock() - listing.fetched_at >= self._max_age:
                listing.statuses = _list_imports(client)
                listing.fetched_at = self._clock()
            return listing.statuses.get(import_arn)


def _list_imports(client: Any) -> dict[str, str]:
    statuses: dict[str, str] = {}
    request: dict[str, Any] = {"PageSize": PAGE_SIZE}
    try:
        for _ in range(MAX_PAGES):
            page = client.list_imports(**request)
            statuses.update({s["ImportArn"]: s.get("ImportStatus", "") for s in page.get("ImportSummaryList", [])})
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    except Exception as exc:
        logger.warning("restore.list_imports_failed", extra={"error_type": type(exc).__name__})
    return statuses
