"""A verification as stored: what export it checks, who asked where, where it stands and what it found."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.models import ExportLocation, ExportType
from bot.verification.verify import Failure


class VerificationStatus(StrEnum):
    """queued → running → passed | failed."""

    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


ACTIVE = frozenset({VerificationStatus.QUEUED, VerificationStatus.RUNNING})


def new_verification_id() -> str:
    """Short, unique enough to type: `v-3fa2c1d8`."""
    return f"v-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class ExportTarget:
    """Which export to check and how to read it (the account and region whose S3 client reads the bucket)."""

    export_id: str
    export_arn: str | None  # None: named by an S3 URL the bot has no record of
    bucket: str
    prefix: str | None
    bucket_owner: str | None
    export_type: ExportType
    read_alias: str | None
    read_region: str
    label: str  # as the user named it, shown in messages
    key_names: tuple[str, ...] = ()  # the table's key attributes when known, partition key first

    @property
    def location(self) -> ExportLocation:
        """Where its files are."""
        return ExportLocation(self.bucket, self.prefix, self.export_id, self.bucket_owner)


@dataclass(frozen=True)
class Verification:
    """One `/ddb-verify`, from request to result."""

    id: str
    target: ExportTarget
    requested_by: str
    channel_id: str | None
    status: VerificationStatus = VerificationStatus.QUEUED
    thread_ts: str | None = None
    attempts: int = 0
    created_at: datetime | None = None
    finished_at: datetime | None = None
    files: int = 0
    items: int = 0
    bytes: int = 0
    seconds: float = 0.0
    failures: tuple[Failure, ...] = ()
    failure_count: int = 0
    reference_at: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def finished(self) -> bool:
        """True once it passed or failed."""
        return self.status not in ACTIVE
