"""The exports a restore reads: found by id, ARN or S3 URL, with where their data files are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.aws import Place
from bot.core import Core
from bot.errors import NotFound, PreconditionFailed
from bot.export_files import ExportLocation, ExportManifest, read_manifest
from bot.export_status import export_detail
from bot.models import ExportJob
from bot.restore_models import SourceSummary


@dataclass(frozen=True)
class ResolvedExport:
    """One export to restore from, whichever way the user named it."""

    plan_source: str
    export_id: str
    export_type: str
    export_format: str
    status: str
    bucket: str
    s3_prefix: str
    bucket_owner: str | None = None
    moment: datetime | None = None
    item_count: int | None = None
    size_bytes: int | None = None
    table_name: str | None = None
    table_display: str | None = None
    source_place: Place | None = None
    account_id: str | None = None
    snapshot: dict[str, Any] = field(default_factory=dict)
    read_place: Place | None = None

    @property
    def export_folder(self) -> str:
        """`<prefix>/AWSDynamoDB/<ExportId>/` within the bucket."""
        base = f"{self.s3_prefix.strip('/')}/" if self.s3_prefix.strip("/") else ""
        return f"{base}AWSDynamoDB/{self.export_id}/"

    @property
    def s3_url(self) -> str:
        """The export's folder as an S3 URL."""
        return f"s3://{self.bucket}/{self.export_folder}"

    def summary(self) -> SourceSummary:
        """How the approval message shows it."""
        return SourceSummary(
            label=self.plan_source,
            table=self.table_display or self.table_name,
            export_id=self.export_id,
            export_type=self.export_type,
            export_time=self.moment,
            item_count=self.item_count,
            size_bytes=self.size_bytes,
        )

    def location_option(self) -> dict[str, Any]:
        """What the runner needs to find the export's files again, as stored in the plan."""
        place = self.read_place or self.source_place
        return {
            "url": self.s3_url,
            "export_id": self.export_id,
            "export_type": self.export_type,
            "format": self.export_format,
            "bucket": self.bucket,
            "prefix": self.s3_prefix,
            "owner": self.bucket_owner,
            "read_alias": place.alias if place else None,
            "read_region": place.region if place else None,
        }


def resolve_export(core: Core, text: str) -> ResolvedExport:
    """An export by id, ARN (the bot's records, else DescribeExport) or `s3://…/AWSDynamoDB/<ExportId>/`."""
    if text.startswith("s3://"):
        from bot.restore_s3 import resolve_s3_url

        return resolve_s3_url(core, text)
    job = export_detail(core, text)
    return from_job(job)


def from_job(job: ExportJob) -> ResolvedExport:
    """An export the bot recorded (or learned from DescribeExport)."""
    place = Place(job.account_alias, job.region)
    arn_parts = job.export_arn.split(":")
    account = arn_parts[4] if len(arn_parts) > 4 and arn_parts[4].isdigit() else None
    return ResolvedExport(
        plan_source=job.export_arn,
        export_id=job.export_id,
        export_type=job.export_type,
        export_format=job.export_format,
        status=job.status,
        bucket=job.bucket,
        s3_prefix=job.s3_prefix,
        bucket_owner=job.bucket_owner,
        moment=job.export_time or job.export_to or job.started_at,
        item_count=job.item_count,
        size_bytes=job.billed_size_bytes,
        table_name=job.table_name if job.table_name != "unknown" else None,
        table_display=job.table_key,
        source_place=place,
        account_id=account,
        snapshot=dict(job.table_snapshot or {}),
        read_place=place,
    )


def import_data_prefix(core: Core, source: ResolvedExport) -> str:
    """The export's `data/` folder for ImportTable, found through its manifest (a listing for moto's exports).

    AWS writes `<prefix>/AWSDynamoDB/<ExportId>/data/`; moto writes `<prefix>/AWSDynamoDB/<uuid>/data/` under
    another id, so the folder is taken from where the data files actually are.
    """
    manifest = read_source_manifest(core, source)
    folders = {f.key.rsplit("/", 1)[0] + "/" for f in manifest.files}
    if len(folders) == 1:
        return folders.pop()
    if not folders:
        raise NotFound(
            f"Export `{source.export_id}` lists no data files at {source.s3_url}. Nothing was asked.",
            "Check that the export's files are still in the bucket (a lifecycle rule may have removed them).",
        )
    raise PreconditionFailed(
        f"The data files of export `{source.export_id}` are spread over {len(folders)} folders, so ImportTable "
        "cannot be pointed at one of them. Nothing was asked.",
        "Restore it into an existing table with `into=` instead, which reads the files one by one.",
    )


def read_source_manifest(core: Core, source: ResolvedExport) -> ExportManifest:
    """The export's manifest (or, without one, its listed data files)."""
    place = source.read_place or source.source_place or Place(None, core.aws.default_region)
    location = ExportLocation(source.bucket, source.s3_prefix.strip("/") or None, source.export_id, source.bucket_owner)
    return read_manifest(core.aws.s3(place), location)


def key_types_of_items(core: Core, source: ResolvedExport, key_names: list[str]) -> dict[str, str] | None:
    """The key attributes' types as the export's first item has them; None when it cannot be read."""
    from bot.restore_s3 import first_item

    item = first_item(core, source)
    if item is None:
        return None
    found: dict[str, str] = {}
    for name in key_names:
        value = item.get(name)
        if not isinstance(value, dict) or len(value) != 1:
            return {**found, name: "missing"}
        found[name] = next(iter(value))
    return found
