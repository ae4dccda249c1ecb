"""What DescribeTable and DescribeContinuousBackups say about a table, in the shape the bot needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.aws.accounts import Place
from bot.aws.errors import translate
from bot.aws.tables import TableRef

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class TableInfo:
    """A table's identity, size and schema (the schema is kept with each export for later restores)."""

    ref: TableRef
    place: Place
    name: str
    arn: str
    size_bytes: int
    item_count: int
    status: str
    snapshot: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PitrWindow:
    """Point-in-time recovery state and the window it allows."""

    enabled: bool
    recovery_days: int | None
    earliest: datetime | None
    latest: datetime | None

    def contains(self, moment: datetime) -> bool:
        """True when `moment` can be exported or restored."""
        if not self.enabled or self.earliest is None or self.latest is None:
            return False
        return self.earliest <= moment <= self.latest


SNAPSHOT_KEYS = (
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingModeSummary",
    "ProvisionedThroughput",
    "SSEDescription",
    "StreamSpecification",
    "TableClassSummary",
    "DeletionProtectionEnabled",
)


def describe_table(client: DynamoDBClient, ref: TableRef, place: Place) -> TableInfo:
    """DescribeTable, translated; raises a user-facing error when the table is missing."""
    try:
        table = client.describe_table(TableName=ref.name)["Table"]
    except Exception as exc:
        raise translate(exc, "dynamodb:DescribeTable", f"Table `{ref.display}` ({place.region})") from exc
    return table_info_of(dict(table), ref, place)


def table_info_of(table: dict[str, Any], ref: TableRef, place: Place) -> TableInfo:
    """A TableInfo from DescribeTable's `Table` (as botocore parses it, or as the JSON DynamoDB sends)."""
    snapshot = {key: _plain(table[key]) for key in SNAPSHOT_KEYS if key in table}
    return TableInfo(
        ref=ref,
        place=place,
        name=table["TableName"],
        arn=table["TableArn"],
        size_bytes=int(table.get("TableSizeBytes", 0)),
        item_count=int(table.get("ItemCount", 0)),
        status=table.get("TableStatus", "ACTIVE"),
        snapshot=snapshot,
    )


def describe_pitr(client: DynamoDBClient, ref: TableRef, place: Place) -> PitrWindow:
    """DescribeContinuousBackups, translated."""
    try:
        description = client.describe_continuous_backups(TableName=ref.name)["ContinuousBackupsDescription"]
    except Exception as exc:
        raise translate(exc, "dynamodb:DescribeContinuousBackups", f"Table `{ref.display}` ({place.region})") from exc
    return pitr_window_of(dict(description))


def pitr_window_of(description: dict[str, Any]) -> PitrWindow:
    """A PitrWindow from DescribeContinuousBackups' `ContinuousBackupsDescription` (its times as datetimes)."""
    pitr = description.get("PointInTimeRecoveryDescription", {})
    return PitrWindow(
        enabled=pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
        recovery_days=pitr.get("RecoveryPeriodInDays")
        or (35 if pitr.get("PointInTimeRecoveryStatus") == "ENABLED" else None),
        earliest=pitr.get("EarliestRestorableDateTime"),
        latest=pitr.get("LatestRestorableDateTime"),
    )


def _plain(value: Any) -> Any:
    """Make a DescribeTable fragment JSON-friendly (datetimes become ISO text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
