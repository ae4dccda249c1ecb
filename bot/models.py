"""Domain records shared by the use cases, the store and the Slack surface."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

IN_PROGRESS, COMPLETED, FAILED = "IN_PROGRESS", "COMPLETED", "FAILED"
FULL_EXPORT, INCREMENTAL_EXPORT = "FULL_EXPORT", "INCREMENTAL_EXPORT"


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
class ExportJob:
    """An export the bot started (or learned of), as stored."""

    export_arn: str
    export_id: str
    table_key: str
    table_name: str
    table_arn: str
    region: str
    status: str
    export_type: str
    export_format: str
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
    table_snapshot: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """True once DynamoDB reported COMPLETED or FAILED."""
        return self.status in {COMPLETED, FAILED}

    @property
    def s3_url(self) -> str:
        """Where the export's files are: its own folder under the bucket."""
        folder = f"{self.s3_prefix}/" if self.s3_prefix else ""
        return f"s3://{self.bucket}/{folder}AWSDynamoDB/{self.export_id}/"

    @property
    def duration_seconds(self) -> float | None:
        """How long DynamoDB took, when both ends are known."""
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None


def export_id_of(export_arn: str) -> str:
    """The ExportId is the ARN's last path element (moto's ARNs are malformed; never parse more)."""
    return export_arn.rsplit("/", 1)[-1]
