"""What `/ddb-retention` answers: when each catalogued export's files expire under the bucket's rules, what that
breaks (a chain's base, the full exports asked for), and the rule that would keep what was asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
