"""Domain records shared by the use cases, the store and the Slack surface."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

BOT_ACTOR = "ddb-backup-bot"  # who the audit log names for what the bot does on its own
# DynamoDB's bounds of one incremental export's window.
MIN_INCREMENTAL_WINDOW, MAX_INCREMENTAL_WINDOW = timedelta(minutes=15), timedelta(hours=24)


class ExportStatus(StrEnum):
    """DynamoDB's ExportStatus."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class ExportType(StrEnum):
    """DynamoDB's ExportType; a summary without one is a full export."""

    FULL = "FULL_EXPORT"
    INCREMENTAL = "INCREMENTAL_EXPORT"


class ExportFormat(StrEnum):
    """DynamoDB's ExportFormat."""

    DYNAMODB_JSON = "DYNAMODB_JSON"
    ION = "ION"


@dataclass(frozen=True)
class Requester:
    """Who asked, and where the answer goes."""

    user_id: str
    channel_id: str | None = None
    response_url: str | None = None

    @property
    def mention(self) -> str:
        """How messages refer to them (a Slack mention when it is a user id)."""
        return f"<@{self.user_id}>" if self.user_id[:1] in {"U", "W"} else self.user_id


@dataclass(frozen=True)
class ExportLocation:
    """Where one export lives: its folder is `<prefix>/AWSDynamoDB/<export_id>/` in `bucket`."""

    bucket: str
    prefix: str | None
    export_id: str
    bucket_owner: str | None = None

    def __post_init__(self) -> None:
        """One spelling of the prefix: no leading or trailing slash, None when empty."""
        object.__setattr__(self, "prefix", (self.prefix or "").strip("/") or None)

    @property
    def root(self) -> str:
        """The `<prefix>/AWSDynamoDB/` folder shared by every export made with this prefix."""
        return f"{self.prefix}/AWSDynamoDB/" if self.prefix else "AWSDynamoDB/"

    @property
    def folder(self) -> str:
        """The export's own folder, holding `_started` and the manifests."""
        return f"{self.root}{self.export_id}/"

    @property
    def url(self) -> str:
        """The export's folder as an S3 URL."""
        return f"s3://{self.bucket}/{self.folder}"

    def object_url(self, key: str) -> str:
        """One object of the bucket as an S3 URL."""
        return f"s3://{self.bucket}/{key}"


@dataclass(frozen=True)
class ExportJob:
    """An export the bot started (or learned of), as stored."""

    export_arn: str
    export_id: str
    table_key: str
    table_name: str
    table_arn: str
    region: str
    status: ExportStatus
    export_type: ExportType
    export_format: ExportFormat
    bucket: str
    s3_prefix: str
    requested_by: str
    account_alias: str | None = None
    bucket_owner: str | None = None
    client_token: str | None = None
    fingerprint: str | None = None
    export_time: datetime | None = None
    export_from: datetime | None = None
    export_to: datetime | None = None
    channel_id: str | None = None
    response_url: str | None = None
    schedule_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    item_count: int | None = None
    billed_size_bytes: int | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    manifest_key: str | None = None
    kms_key: str | None = None  # S3SseKmsKeyId: the customer-managed key the export's objects are encrypted with
    table_snapshot: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """True once DynamoDB reported COMPLETED or FAILED."""
        return self.status in {ExportStatus.COMPLETED, ExportStatus.FAILED}

    @property
    def location(self) -> ExportLocation:
        """Where the export's files are."""
        return ExportLocation(self.bucket, self.s3_prefix, self.export_id, self.bucket_owner)

    @property
    def s3_url(self) -> str:
        """The export's own folder under the bucket."""
        return self.location.url

    @property
    def duration_seconds(self) -> float | None:
        """How long DynamoDB took, when both ends are known."""
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None


def export_id_of(export_arn: str) -> str:
    """The ExportId is the ARN's last path element (moto's ARNs are malformed; never parse more)."""
    return export_arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PitrSurvey:
    """PITR across every account, for the digest: the tables read without it and with it, and what could not be read
    (tables and places, as people name them), so that a table the survey did not see is never taken for one whose
    PITR was turned on."""

    without: frozenset[str]
    with_pitr: frozenset[str] = frozenset()
    not_read: tuple[str, ...] = ()
