"""One bulk put operation's state (what DescribeBulkOperation shows) and the test hook that pauses processing.

The description follows the API model's BulkOperationDescription: ProcessedItemCount counts every processed input
item (written, failed validation, failed its condition); FailedItemCount only parse/validation failures;
ProcessedInputBytes the bytes read from S3 so far; TotalInputBytes appears once the input's size is known; EndTime,
FailureCode and FailureMessage only in a terminal status (the failure fields only for FAILED or CANCELLED).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.demo.aws.clock import epoch_seconds
from bot.demo.aws.front import Caller
from bot.demo.aws.tables import Item, TableInfo

ACTIVE = frozenset({"IN_PROGRESS", "CANCELLING"})
TERMINAL = frozenset({"COMPLETED", "COMPLETED_WITH_ERRORS", "CANCELLED", "FAILED"})


@dataclass(frozen=True)
class InputObject:
    """One S3 object of the input."""

    key: str
    size: int


@dataclass
class BulkOperation:
    """A bulk put operation, shared by the API (reads) and its runner thread (writes); `lock` guards the counters."""

    arn: str
    caller: Caller
    account: str
    table: TableInfo
    request: dict[str, Any]
    start: datetime
    objects: list[InputObject]
    status: str = "IN_PROGRESS"
    end: datetime | None = None
    processed: int = 0
    failed: int = 0
    processed_bytes: int = 0
    total_bytes: int | None = None
    table_bytes: int = 0
    index_bytes: dict[str, int] = field(default_factory=dict)
    failure: tuple[str, str] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    condition_failures: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cancel_requested(self) -> bool:
        with self.lock:
            return self.status == "CANCELLING"

    def add_written(self, table_bytes: int, index_bytes: dict[str, int]) -> None:
        with self.lock:
            self.processed += 1
            self.table_bytes += table_bytes
            for name, size in index_bytes.items():
                self.index_bytes[name] = self.index_bytes.get(name, 0) + size

    def add_error(self, entry: dict[str, Any], *, item: bool = True) -> None:
        """A parse/validation failure of one item (or, with item=False, of a whole input object)."""
        with self.lock:
            self.errors.append(entry)
            if item:
                self.processed += 1
                self.failed += 1

    def add_condition_failure(self, source: dict[str, Any], attempted: Item, existing: Item | None) -> None:
        with self.lock:
            self.processed += 1
            entry = {**source, "Item": attempted}
            if existing is not None:
                entry["ExistingItem"] = existing
            self.condition_failures.append(entry)

    def summary(self) -> dict[str, Any]:
        with self.lock:
            summary: dict[str, Any] = {
                "BulkOperationArn": self.arn,
                "BulkOperationStatus": self.status,
                "StartTime": epoch_seconds(self.start),
            }
            if self.end is not None:
                summary["EndTime"] = epoch_seconds(self.end)
            return summary

    def description(self) -> dict[str, Any]:
        body = self.request
        with self.lock:
            described: dict[str, Any] = {
                "BulkOperationArn": self.arn,
                "BulkOperationStatus": self.status,
                "TableDetails": [{"TableName": self.table.name, "TableId": self.table.table_id}],
                "InputS3Configuration": {"InputCompressionType": "NONE", **body["InputS3Configuration"]},
                "OutputS3Configuration": dict(body["OutputS3Configuration"]),
                "StartTime": epoch_seconds(self.start),
                "ProcessedItemCount": self.processed,
                "FailedItemCount": self.failed,
                "ProcessedInputBytes": self.processed_bytes,
                "BulkOperationUsage": [self._usage()],
                "PerformanceTier": body.get("PerformanceTier", "STANDARD"),
            }
            for member in ("ClientToken", "MaxWriteRequestUnits"):
                if member in body:
                    described[member] = body[member]
            if self.total_bytes is not None:
                described["TotalInputBytes"] = self.total_bytes
            if self.end is not None:
                described["EndTime"] = epoch_seconds(self.end)
            if self.failure is not None and self.status in {"FAILED", "CANCELLED"}:
                described["FailureCode"], described["FailureMessage"] = self.failure
            return described

    def _usage(self) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "TableName": self.table.name,
            "BulkPutBytes": self.table_bytes + sum(self.index_bytes.values()),
            "Table": {"BulkPutBytes": self.table_bytes},
        }
        for index in self.table.indexes:
            member = "GlobalSecondaryIndexes" if index.is_global else "LocalSecondaryIndexes"
            usage.setdefault(member, {})[index.name] = {"BulkPutBytes": self.index_bytes.get(index.name, 0)}
        return usage


class ProcessingHold:
    """Test hook: pause every operation's processing once it has processed `items` input items, until `resume()`
    (so a test can cancel mid-way, or stop a bot replica while an operation runs)."""

    def __init__(self) -> None:
        self._after: int | None = None
        self._released = threading.Event()
        self.paused = threading.Event()  # set while a runner waits here

    def pause_after(self, items: int) -> None:
        self._released.clear()
        self._after = items

    def resume(self) -> None:
        self._after = None
        self._released.set()

    def checkpoint(self, processed: int) -> None:
        after = self._after
        if after is not None and processed >= after:
            self.paused.set()
            self._released.wait()
            self.paused.clear()
