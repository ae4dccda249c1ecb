"""The catalogue's own table: each manifest-summary.json found in a configured bucket, kept for good (DynamoDB's
ListExports forgets an export after 90 days; its files stay). A summary that could not be read is kept too, with
why, so it is reported without being read again on every look. The bot's own exports stay in `exports`."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import BigInteger, Column, Engine, RowMapping, String, Table, Text, and_, func, insert, select, true
from sqlalchemy.exc import IntegrityError

from bot.catalog.models import CatalogEntry, EntrySource, UnreadableSummary
from bot.db import UtcDateTime, database_now, metadata
from bot.exports.files import ExportSummary
from bot.models import ExportFormat, ExportType

export_catalog = Table(
    "export_catalog",
    metadata,
    Column("bucket", String(63), primary_key=True),
    Column("summary_key", String(1024), primary_key=True),
    Column("export_id", String(128), nullable=False, index=True),
    Column("prefix", String(1024)),
    Column("bucket_owner", String(12)),
    Column("table_arn", String(1024), index=True),  # None when the summary could not be read
    Column("export_arn", String(1024)),
    Column("export_type", String(32)),
    Column("export_format", String(32)),
    Column("export_time", UtcDateTime()),
    Column("export_from", UtcDateTime()),
    Column("export_to", UtcDateTime()),
    Column("item_count", BigInteger),
    Column("billed_size_bytes", BigInteger),
    Column("kms_key", String(2048)),
    Column("problem", Text),  # why the summary could not be read; None when it was
    Column("discovered_at", UtcDateTime(), nullable=False),
)


BATCH = 500  # table ARNs per query: far below SQLite's and PostgreSQL's bound-parameter limits


class CatalogStore:
    """Repository of discovered exports; a summary is recorded once, never changed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def known_keys(self, bucket: str, key_prefix: str) -> set[str]:
        """The summary keys under `key_prefix` of `bucket` already recorded (read or not)."""
        query = select(export_catalog.c.summary_key).where(
            and_(
                export_catalog.c.bucket == bucket, export_catalog.c.summary_key.startswith(key_prefix, autoescape=True)
            )
        )
        with self.engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def record(self, summary: ExportSummary, key: str) -> bool:
        """Keep what a summary says; False when another look recorded it first."""
        location = summary.location
        return self._insert(
            {
                "bucket": location.bucket,
                "summary_key": key,
                "export_id": location.export_id,
                "prefix": location.prefix,
                "bucket_owner": location.bucket_owner,
                "table_arn": summary.table_arn,
                "export_arn": summary.export_arn,
                "export_type": summary.export_type,
                "export_format": summary.export_format,
                "export_time": summary.export_time,
                "export_from": summary.from_time,
                "export_to": summary.to_time,
                "item_count": summary.item_count,
                "billed_size_bytes": summary.billed_size_bytes,
                "kms_key": summary.kms_key,
            }
        )

    def record_unreadable(self, bucket: str, key: str, export_id: str, problem: str) -> bool:
        """Keep a summary that could not be read, and why; False when already recorded."""
        return self._insert({"bucket": bucket, "summary_key": key, "export_id": export_id, "problem": problem})

    def entries(self, table_arn: str) -> list[CatalogEntry]:
        """Every readable export recorded for the table."""
        query = select(export_catalog).where(
            and_(export_catalog.c.table_arn == table_arn, export_catalog.c.problem.is_(None))
        )
        with self.engine.connect() as connection:
            return [_entry(row) for row in connection.execute(query).mappings()]

    def newest_by_owner(
        self, table_arns: Iterable[str], leave_out: Collection[str] = ()
    ) -> dict[str, list[CatalogEntry]]:
        """The newest readable export of each table in each bucket owner it lies in, by table ARN, the export ids in
        `leave_out` left out: one query per BATCH tables (the controls of a whole estate judge a backup's age and a
        copy elsewhere from these)."""
        kept = export_catalog.c.export_id.not_in(sorted(leave_out)) if leave_out else true()
        found: dict[str, list[CatalogEntry]] = {}
        arns = list(dict.fromkeys(table_arns))
        moment = func.coalesce(export_catalog.c.export_to, export_catalog.c.export_time)
        groups = (export_catalog.c.table_arn, func.coalesce(export_catalog.c.bucket_owner, ""))
        for first in range(0, len(arns), BATCH):
            rank = func.row_number().over(partition_by=groups, order_by=moment.desc()).label("rank")
            ranked = (
                select(export_catalog, rank)
                .where(
                    export_catalog.c.table_arn.in_(arns[first : first + BATCH]),
                    export_catalog.c.problem.is_(None),
                    kept,
                )
                .subquery()
            )
            query = select(*(ranked.c[c.name] for c in export_catalog.columns)).where(ranked.c.rank == 1)
            with self.engine.connect() as connection:
                for row in connection.execute(query).mappings():
                    found.setdefault(str(row["table_arn"]), []).append(_entry(row))
        return found

    def unreadable(self, bucket: str, key_prefix: str) -> list[UnreadableSummary]:
        """The summaries under a location that could not be read."""
        query = select(export_catalog.c.summary_key, export_catalog.c.problem).where(
            and_(
                export_catalog.c.bucket == bucket,
                export_catalog.c.summary_key.startswith(key_prefix, autoescape=True),
                export_catalog.c.problem.is_not(None),
            )
        )
        with self.engine.connect() as connection:
            return [UnreadableSummary(f"s3://{bucket}/{key}", problem) for key, problem in connection.execute(query)]

    def _insert(self, row: dict[str, object]) -> bool:
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(export_catalog), {**row, "discovered_at": database_now(connection)})
        except IntegrityError:
            return False
        return True


def _entry(values: RowMapping) -> CatalogEntry:
    arn = str(values["table_arn"])
    return CatalogEntry(
        export_id=str(values["export_id"]),
        table_arn=arn,
        table_name=arn.rsplit("/", 1)[-1],
        region=arn.split(":")[3] if arn.count(":") >= 5 else "",
        export_type=ExportType(str(values["export_type"])),
        export_format=ExportFormat(str(values["export_format"])),
        bucket=str(values["bucket"]),
        prefix=_text(values["prefix"]),
        source=EntrySource.BUCKET,
        export_arn=_text(values["export_arn"]),
        bucket_owner=_text(values["bucket_owner"]),
        export_time=values["export_time"],
        from_time=values["export_from"],
        to_time=values["export_to"],
        item_count=values["item_count"],
        billed_size_bytes=values["billed_size_bytes"],
        kms_key=_text(values["kms_key"]),
    )


def _text(value: object) -> str | None:
    return str(value) if value is not None else None
