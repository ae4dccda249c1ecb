"""What the catalogue holds: one entry per export (the bot's own record, or a manifest-summary.json found in a
bucket), what proves it (verified, drilled), and the chain that restores a table as of a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.exports.chain import Window
from bot.models import ExportFormat, ExportJob, ExportLocation, ExportStatus, ExportType


class EntrySource(StrEnum):
    """Where the catalogue learned of an export."""

    BOT = "bot"  # the bot started it (or learned of it from DynamoDB) and keeps its record
    BUCKET = "bucket"  # its manifest-summary.json was found in a configured bucket and prefix


@dataclass(frozen=True)
class CatalogEntry:
    """One export as the catalogue shows it; `as_of` orders a table's exports (a full export's time, an
    incremental's window end)."""

    export_id: str
    table_arn: str
    table_name: str
    region: str
    export_type: ExportType
    export_format: ExportFormat
    bucket: str
    prefix: str | None
    source: EntrySource
    status: ExportStatus = ExportStatus.COMPLETED
    export_arn: str | None = None
    bucket_owner: str | None = None
    export_time: datetime | None = None
    from_time: datetime | None = None
    to_time: datetime | None = None
    item_count: int | None = None
    billed_size_bytes: int | None = None
    kms_key: str | None = None

    @property
    def window(self) -> Window | None:
        """The span it covers: a full export's moment as (t, t), an incremental's [from, to)."""
        if self.export_type == ExportType.INCREMENTAL:
            return (self.from_time, self.to_time) if self.from_time and self.to_time else None
        return (self.export_time, self.export_time) if self.export_time else None

    @property
    def as_of(self) -> datetime | None:
        """The moment of the table's state it brings a restore to."""
        window = self.window
        return window[1] if window else None

    @property
    def location(self) -> ExportLocation:
        """Where its files are."""
        return ExportLocation(self.bucket, self.prefix, self.export_id, self.bucket_owner)

    @property
    def usable(self) -> bool:
        """Completed and timed: it can take part in a restore chain."""
        return self.status == ExportStatus.COMPLETED and self.window is not None


def entry_of_job(job: ExportJob) -> CatalogEntry:
    """The bot's own record of an export, as a catalogue entry."""
    return CatalogEntry(
        export_id=job.export_id,
        table_arn=job.table_arn,
        table_name=job.table_name,
        region=job.region,
        export_type=job.export_type,
        export_format=job.export_format,
        bucket=job.bucket,
        prefix=job.location.prefix,
        source=EntrySource.BOT,
        status=job.status,
        export_arn=job.export_arn,
        bucket_owner=job.bucket_owner,
        export_time=job.export_time or job.started_at,
        from_time=job.export_from,
        to_time=job.export_to,
        item_count=job.item_count,
        billed_size_bytes=job.billed_size_bytes,
        kms_key=job.kms_key,
    )


@dataclass(frozen=True)
class Proof:
    """The newest verification and drill of one export: "passed", "failed", "running"…, and when."""

    verified: str | None = None
    verified_at: datetime | None = None
    drilled: str | None = None
    drilled_at: datetime | None = None


@dataclass(frozen=True)
class UnreadableSummary:
    """A manifest-summary.json found in a bucket that could not be read as one, and why (in words a user reads)."""

    url: str
    problem: str


@dataclass(frozen=True)
class Discovery:
    """What one look through the configured buckets found: new entries, where it looked, what it could not read."""

    new: int = 0
    looked_in: tuple[str, ...] = ()  # s3://bucket/prefix/
    unreadable: tuple[UnreadableSummary, ...] = ()
    cut_short: tuple[str, ...] = ()  # locations with more objects than one look lists
    failures: tuple[str, ...] = ()  # locations S3 refused to list, with what to fix


@dataclass(frozen=True)
class Listing:
    """`/ddb-catalog <table>`: the table's exports, newest first, with their proofs and what discovery saw."""

    table: str
    entries: tuple[CatalogEntry, ...]
    proofs: dict[str, Proof] = field(default_factory=dict)
    discovery: Discovery = field(default_factory=Discovery)


@dataclass(frozen=True)
class Chain:
    """The full export and the incrementals that restore a table as of `reaches` (at most the time asked), and
    what stops it reaching the time: a hole no export covers (`gap`), or an incremental whose window ends after
    it (`overshoots`; an incremental restores only to its window's end). `full` is None when no full export at or
    before the time is catalogued; `earliest_full` then says when the first one is."""

    full: CatalogEntry | None
    incrementals: tuple[CatalogEntry, ...] = ()
    reaches: datetime | None = None
    gap: Window | None = None
    overshoots: CatalogEntry | None = None
    earliest_full: datetime | None = None


@dataclass(frozen=True)
class RestoreChain:
    """`/ddb-catalog <table> at=<time>`: the chain, with the proofs of its exports and what discovery saw."""

    table: str
    at: datetime
    chain: Chain
    proofs: dict[str, Proof] = field(default_factory=dict)
    discovery: Discovery = field(default_factory=Discovery)

    @property
    def exact(self) -> bool:
        """The chain restores the table exactly as of `at`."""
        return self.chain.reaches == self.at
