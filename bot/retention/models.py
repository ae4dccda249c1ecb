"""What `/ddb-retention` answers: when each catalogued export's files expire under the bucket's rules, what that
breaks (a chain's base, the full exports asked for), and the rule that would keep what was asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.catalog.models import CatalogEntry
from bot.retention.buckets import BucketKeeping


@dataclass(frozen=True)
class RetentionAsk:
    """How long exports are kept (days) and how many full exports at least; None: not asked."""

    keep_days: int | None = None
    fulls: int | None = None


@dataclass(frozen=True)
class Fate:
    """One export and the moment S3's lifecycle deletes its files (None: no rule deletes them)."""

    entry: CatalogEntry
    expires_at: datetime | None
    deleted: bool = False  # deleted early on an approved request


@dataclass(frozen=True)
class Proposal:
    """The lifecycle rule that implements the retention, as PutBucketLifecycleConfiguration's body and as Terraform,
    for the bucket's owners to apply with their own tooling (the bot never changes lifecycle rules)."""

    bucket: str
    prefix: str
    days: int
    lifecycle_json: str
    terraform: str
    why: str


@dataclass(frozen=True)
class RetentionReport:
    """`/ddb-retention <table>`: the buckets' rules, each export's fate, the warnings, and the proposal."""

    table: str
    ask: RetentionAsk
    now: datetime
    keepings: tuple[BucketKeeping, ...]
    fates: tuple[Fate, ...]
    warnings: tuple[str, ...]
    proposals: tuple[Proposal, ...]


class DeletionState(StrEnum):
    """PENDING until an approver decides (or it expires); APPROVED → DELETED, PARTIAL (some files kept, e.g. by
    Object Lock) or FAILED."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"


GONE = frozenset({DeletionState.DELETED, DeletionState.PARTIAL})  # the export no longer restores anything


@dataclass(frozen=True)
class DeletionRequest:
    """One export to delete early, with what the approver is shown (time, size, objects) and how it ended."""

    id: str
    state: DeletionState
    table_key: str
    export_id: str
    export_arn: str | None
    export_type: str
    export_time: datetime | None
    bucket: str
    folder: str
    bucket_owner: str | None
    object_count: int
    size_bytes: int
    digest: str
    requested_by: str
    created_at: datetime
    expires_at: datetime
    channel_id: str | None = None
    approval_channel: str | None = None
    approval_ts: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    deleted_objects: int | None = None
    kept_objects: int | None = None
    outcome: str | None = None
    finished_at: datetime | None = None

    @property
    def button_value(self) -> str:
        """What Approve and Reject carry: the id and the digest of what will be deleted."""
        return f"{self.id}:{self.digest}"
