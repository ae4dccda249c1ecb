"""Point-in-time recovery with a window that moves, as AWS's does (moto freezes it at the moment PITR was enabled).

UpdateContinuousBackups and DescribeContinuousBackups go to moto first (so it validates the table and keeps its own
PITR status for the operations it still answers, such as RestoreTableToPointInTime); the answer's window is the
stand-in's: EarliestRestorableDateTime is when PITR was last enabled or now minus RecoveryPeriodInDays, whichever is
later; LatestRestorableDateTime is "typically 5 minutes before the current time" (the model's text), but never
before the earliest. Turning PITR off and on restarts the window. A table whose PITR was enabled behind the front's
back is taken as enabled when the front first sees it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.demo.aws.clock import epoch_seconds
from bot.demo.aws.front import AwsError, Caller, DynamoDbCall, DynamoDbFront, IncomingRequest
from bot.demo.aws.history import History
from bot.demo.aws.tables import TableInfo, describe_table

RESTORE_LAG = timedelta(minutes=5)
DEFAULT_RECOVERY_DAYS = 35


@dataclass(frozen=True)
class Window:
    """The times a table can be restored or exported to."""

    earliest: datetime
    latest: datetime
    recovery_days: int


@dataclass
class _Pitr:
    enabled_at: datetime
    recovery_days: int


class PointInTimeRecovery:
    """Answers the two PITR operations and tells the export stand-in each table's window."""

    def __init__(self, front: DynamoDbFront, history: History) -> None:
        self.front = front
        self.history = history
        self._tables: dict[str, _Pitr] = {}
        self._lock = threading.Lock()
        front.add_gate(self._on_reset)
        front.handle("UpdateContinuousBackups", self._update)
        front.handle("DescribeContinuousBackups", self._describe)

    def window(self, caller: Caller, table: TableInfo) -> Window | None:
        """The table's PITR window now, or None when PITR is off."""
        state = self._state(caller, table)
        if state is None:
            return None
        now = self.front.clock()
        earliest = max(state.enabled_at, now - timedelta(days=state.recovery_days))
        return Window(earliest, max(earliest, now - RESTORE_LAG), state.recovery_days)

    def _update(self, call: DynamoDbCall) -> dict[str, Any]:
        spec = call.body.get("PointInTimeRecoverySpecification") or {}
        days = spec.get("RecoveryPeriodInDays")
        if days is not None and (not isinstance(days, int) or not 1 <= days <= 35):
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{days}' at "
                "'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: "
                "Member must have value between 1 and 35",
            )
        table = self._table(call)
        self.history.timeline(call.caller, table)  # adopt its items before the window starts
        self.front.call_moto(call.caller, "UpdateContinuousBackups", call.body)
        key = _key(table)
        with self._lock:
            current = self._tables.get(key)
            if not spec.get("PointInTimeRecoveryEnabled"):
                self._tables.pop(key, None)
            elif current is None:
                self._tables[key] = _Pitr(self.front.clock(), days or DEFAULT_RECOVERY_DAYS)
            elif days is not None:
                current.recovery_days = days
        return self._description(call.caller, table)

    def _describe(self, call: DynamoDbCall) -> dict[str, Any]:
        return self._description(call.caller, self._table(call))

    def _table(self, call: DynamoDbCall) -> TableInfo:
        try:
            return describe_table(self.front, call.caller, str(call.body.get("TableName", "")))
        except AwsError as error:
            if error.code != "ResourceNotFoundException":
                raise
            raise AwsError("TableNotFoundException", f"Table not found: {call.body.get('TableName')}") from None

    def _state(self, caller: Caller, table: TableInfo) -> _Pitr | None:
        """The stand-in's PITR state, reconciled with moto's (PITR switched there directly is followed)."""
        moto = self.front.call_moto(caller, "DescribeContinuousBackups", {"TableName": table.name})
        enabled = moto["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        key = _key(table)
        with self._lock:
            if enabled != "ENABLED":
                self._tables.pop(key, None)
                return None
            known = self._tables.get(key)
        if known is None:
            self.history.timeline(caller, table)
            with self._lock:
                known = self._tables.setdefault(key, _Pitr(self.front.clock(), DEFAULT_RECOVERY_DAYS))
        return known

    def _description(self, caller: Caller, table: TableInfo) -> dict[str, Any]:
        window = self.window(caller, table)
        if window is None:
            description: dict[str, Any] = {"PointInTimeRecoveryStatus": "DISABLED"}
        else:
            description = {
                "PointInTimeRecoveryStatus": "ENABLED",
                "RecoveryPeriodInDays": window.recovery_days,
                "EarliestRestorableDateTime": epoch_seconds(window.earliest),
                "LatestRestorableDateTime": epoch_seconds(window.latest),
            }
        return {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": description,
            }
        }

    def _on_reset(self, request: IncomingRequest) -> None:
        if request.path.startswith("/moto-api/reset"):
            with self._lock:
                self._tables.clear()


def _key(table: TableInfo) -> str:
    return f"{table.arn}#{table.table_id}"
