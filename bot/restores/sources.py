"""The exports a restore reads: found by id, ARN or S3 URL, with where their data files are, and a look at an
export's first item."""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.aws.accounts import Place
from bot.aws.errors import translate
from bot.aws.tables import TABLE_ARN, TableRef
from bot.core import Core
from bot.errors import NotFound, PreconditionFailed
from bot.exports.files import ExportManifest, parse_s3_export_url, read_manifest
from bot.exports.status import export_detail
from bot.models import ExportFormat, ExportJob, ExportLocation, ExportStatus, ExportType, export_id_of
from bot.restores.models import LoadSource, SourceSummary

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedExport:
    """One export to restore from, whichever way the user named it."""

    plan_source: str
    export_id: str
    export_type: ExportType
    export_format: ExportFormat
    status: ExportStatus
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
    def location(self) -> ExportLocation:
        """Where the export's files are."""
        return ExportLocation(self.bucket, self.s3_prefix, self.export_id, self.bucket_owner)

    @property
    def s3_url(self) -> str:
        """The export's folder as an S3 URL."""
        return self.location.url

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

    def load_source(self) -> LoadSource:
        """What the runner needs to find the export's files again, as stored in the plan."""
        place = self.read_place or self.source_place
        return LoadSource(
            url=self.s3_url,
            export_id=self.export_id,
            export_type=self.export_type,
            export_format=self.export_format,
            bucket=self.bucket,
            prefix=self.s3_prefix,
            owner=self.bucket_owner,
            read_alias=place.alias if place else None,
            read_region=place.region if place else None,
        )


def resolve_export(core: Core, text: str) -> ResolvedExport:
    """An export by id, ARN (the bot's records, else DescribeExport) or `s3://…/AWSDynamoDB/<ExportId>/`."""
    if text.startswith("s3://"):
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
    return read_manifest(core.aws.s3(place), source.location)


def key_types_of_items(core: Core, source: ResolvedExport, key_names: list[str]) -> dict[str, str] | None:
    """The key attributes' types as the export's first item has them; None when it cannot be read."""
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


FIRST_LINE_LIMIT = 512 * 1024


def resolve_s3_url(core: Core, url: str) -> ResolvedExport:
    """An export by `s3://<bucket>/<prefix>/AWSDynamoDB/<ExportId>/`: the bot's record when it made it, else
    what its manifest-summary.json says (a listing for exports without manifests)."""
    location = parse_s3_export_url(url)
    known = core.store.find_export(location.export_id)
    if known is not None and known.bucket == location.bucket:
        return replace(from_job(known), plan_source=location.url)
    place = Place(None, core.aws.default_region)
    manifest = read_manifest(core.aws.s3(place), location)
    summary = manifest.summary or {}
    table_arn = str(summary.get("tableArn") or "")
    match = TABLE_ARN.match(table_arn)
    source_place = table_name = account = None
    if match:
        ref = TableRef(match["name"], region=match["region"], account_id=match["account"])
        source_place, table_name, account = core.aws.place_of(ref), match["name"], match["account"]
    export_arn = str(summary.get("exportArn") or "")
    return ResolvedExport(
        plan_source=location.url,
        export_id=export_id_of(export_arn) if export_arn else location.export_id,
        export_type=manifest.export_type or ExportType.FULL,
        export_format=manifest.export_format,
        status=ExportStatus.COMPLETED,
        bucket=location.bucket,
        s3_prefix=location.prefix or "",
        bucket_owner=location.bucket_owner,
        moment=manifest.as_of,
        item_count=manifest.item_count,
        size_bytes=summary.get("billedSizeBytes"),
        table_name=table_name,
        table_display=table_name,
        source_place=source_place,
        account_id=account,
        read_place=place,
    )


def first_item(core: Core, source: ResolvedExport) -> dict[str, Any] | None:
    """The first item (full export) or first key (incremental) of the export, in DynamoDB JSON; None when the
    export has no items or is not DYNAMODB_JSON."""
    if source.export_format != "DYNAMODB_JSON":
        return None
    manifest = read_source_manifest(core, source)
    place = source.read_place or source.source_place or Place(None, core.aws.default_region)
    s3 = core.aws.s3(place)
    for data_file in manifest.files:
        if data_file.item_count == 0:
            continue
        try:
            body = s3.get_object(Bucket=source.bucket, Key=data_file.key)["Body"].read(FIRST_LINE_LIMIT)
        except Exception as exc:
            raise translate(exc, "s3:GetObject", f"`s3://{source.bucket}/{data_file.key}`") from exc
        line = _first_line(body)
        if line is None:
            continue
        record = json.loads(line)
        found = record.get("Item") or record.get("Keys")
        if isinstance(found, dict):
            return found
    return None


def _first_line(compressed: bytes) -> str | None:
    """The first line of a (possibly partial) gzip stream."""
    try:
        text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(compressed)
    except (zlib.error, gzip.BadGzipFile):
        return None
    for line in text.splitlines():
        if line.strip():
            return line.decode("utf-8")
    return None
