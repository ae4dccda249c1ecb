"""The exports a restore reads: found by id, ARN or S3 URL, with where their data files are, and a look at an
export's first item.

An S3 URL points anywhere: what its manifest says is shown as coming from that bucket, the bucket must be one of
the configured export buckets unless the requester names its owner (which S3 then checks on every read), and the
manifests read at planning time are bound into the plan, so a run refuses files replaced after the approval.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.aws.accounts import Place
from bot.aws.errors import translate
from bot.aws.tables import TABLE_ARN, TableRef
from bot.bounded import first_line, inflate_gzip
from bot.core import Core
from bot.errors import AwsError, NotFound, PreconditionFailed
from bot.exports.files import ExportManifest, list_objects, manifest_changes, parse_s3_export_url, read_manifest
from bot.exports.status import export_detail
from bot.limits import PEEK_LINE
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
    from_url: bool = False  # named by an s3:// URL: the approval message shows the bucket and its owner
    manifest: ExportManifest | None = None  # as read at planning time (see `with_manifest`)
    export_arn: str | None = None  # set when the bot recorded the export (its record is checked against)
    window: tuple[datetime, datetime] | None = None  # an incremental export's [from, to)
    foreign_account: str | None = None  # the manifest's table is in this account, which the bot cannot reach
    count_basis: str | None = None  # where `item_count` comes from, in words

    @property
    def table_named(self) -> str | None:
        """The source table as messages name it (`alias:name` when aliased), when known."""
        return self.table_display or self.table_name

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
            bucket=self.bucket if self.from_url else None,
            owner=self.bucket_owner if self.from_url else None,
            unverified=self.manifest.unverified if self.manifest else (),
            window_start=self.window[0] if self.window else None,
            window_end=self.window[1] if self.window else None,
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
            manifest_md5=self.manifest.checksum if self.manifest else None,
            export_arn=self.export_arn,
            item_count=self.item_count,
            count_basis=self.count_basis if self.item_count is not None else None,
        )


CHECKED_PARTS = {"listing": "its data files (it has no manifests)", "data-folder": "the data folder ImportTable reads"}


class ExportFilesChanged(PreconditionFailed):
    """The export's manifests (or ImportTable's data folder) differ from what was read when it was approved."""


class UnknownBucket(PreconditionFailed):
    """An S3 URL in a bucket the bot was not configured with, and no owner= to check it against."""


def resolve_export(core: Core, text: str, owner: str | None = None) -> ResolvedExport:
    """An export by id, ARN (the bot's records, else DescribeExport) or `s3://…/AWSDynamoDB/<ExportId>/`;
    `owner` is the 12-digit account the requester says owns an S3 URL's bucket."""
    if text.startswith("s3://"):
        return resolve_s3_url(core, text, owner)
    job = export_detail(core, text)
    return from_job(job)


def with_manifest(core: Core, source: ResolvedExport) -> ResolvedExport:
    """The source with its manifest read once, so what is shown, checked and bound into the plan is one read."""
    if source.manifest is not None:
        return source
    return replace(source, manifest=read_source_manifest(core, source))


def from_job(job: ExportJob) -> ResolvedExport:
    """An export the bot recorded (or learned from DescribeExport)."""
    place = Place(job.account_alias, job.region)
    arn_parts = job.export_arn.split(":")
    account = arn_parts[4] if len(arn_parts) > 4 and arn_parts[4].isdigit() else None
    window = (job.export_from, job.export_to) if job.export_from and job.export_to else None
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
        export_arn=job.export_arn,
        window=window if job.export_type == ExportType.INCREMENTAL else None,
        count_basis="DescribeExport's ItemCount, as the bot recorded it",
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
    """The export's manifest (or, without one, its listed data files): the one read at planning time if any."""
    if source.manifest is not None:
        return source.manifest
    place = source.read_place or source.source_place or Place(None, core.aws.default_region)
    return read_manifest(core.aws.s3(place), source.location)


def import_checksum(core: Core, source: ResolvedExport, data_prefix: str) -> str:
    """What ImportTable's run must find again: the manifests' MD5s, and the data folder's listing, since
    ImportTable reads every object under that prefix, not only the files the manifest names."""
    place = source.read_place or source.source_place or Place(None, core.aws.default_region)
    manifest = read_source_manifest(core, source)
    return f"{manifest.checksum} {_listing_checksum(core.aws.s3(place), source.location, data_prefix)}"


def verify_unchanged(core: Core, source: LoadSource, data_prefix: str | None = None) -> None:
    """Before a run: the export's manifests (and, for ImportTable, its data folder) must be the ones approved.

    Plans stored before the checksum existed carry none and are not checked. Raises ExportFilesChanged.
    """
    expected = source.manifest_md5
    if expected is None:
        return
    place = Place(source.read_alias, source.read_region or core.aws.default_region)
    s3 = core.aws.s3(place)
    found = read_manifest(s3, source.location).checksum
    if data_prefix is not None:
        found = f"{found} {_listing_checksum(s3, source.location, data_prefix)}"
    changed = [CHECKED_PARTS.get(name, name) for name in manifest_changes(expected, found)]
    if changed:
        raise ExportFilesChanged(
            f"The export's files were replaced after approval: {' and '.join(changed)} of {source.location.url} "
            "no longer match what the approvers saw. Nothing was written.",
            "Find out who changed the export's objects; to restore what is there now, make a new request so it "
            "is approved as it is.",
        )


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


def configured_buckets(core: Core) -> dict[str, str | None]:
    """The export buckets an operator configured (DDBBOT_EXPORT_BUCKET, the config file's tables), with the owner
    configured for each (None: not given)."""
    found: dict[str, str | None] = {}
    for defaults in core.config.tables.values():
        if defaults.bucket:
            found[defaults.bucket] = found.get(defaults.bucket) or defaults.owner
    if core.defaults.bucket:
        found[core.defaults.bucket] = core.defaults.owner or found.get(core.defaults.bucket)
    return found


def resolve_s3_url(core: Core, url: str, owner: str | None = None) -> ResolvedExport:
    """An export by `s3://<bucket>/<prefix>/AWSDynamoDB/<ExportId>/`: the bot's record when it made it there, else
    what its manifest-summary.json says (a listing for exports without manifests), read with the bucket's owner
    checked when it is known; a bucket that is neither configured nor given an owner is refused.

    The manifest's table is only metadata here: a table in an account the bot cannot reach (exports copied into a
    backup account from another one) is named as such, never read, never refused for it."""
    location = parse_s3_export_url(url)
    known = core.store.find_export(location.export_id)
    if known is not None and known.location.url == location.url:
        job = from_job(known)
        return replace(job, plan_source=location.url, bucket_owner=owner or job.bucket_owner)  # the bot's record
    configured = configured_buckets(core)
    if owner is None and location.bucket not in configured:
        raise UnknownBucket(
            f"`{location.bucket}` is not one of the bot's export buckets, so I cannot tell whose bucket "
            f"`{url}` is, and its manifest could say anything. Nothing was asked.",
            "If you trust that bucket, add `owner=<12-digit account id>` (the account that owns it; S3 then refuses "
            "to read it if someone else owns it), or add it as an export bucket in the config file.",
        )
    location = replace(location, bucket_owner=owner or configured.get(location.bucket))
    place = Place(None, core.aws.default_region)
    manifest = read_manifest(core.aws.s3(place), location)
    summary = manifest.summary or {}
    _require_own_manifest(location, summary)
    source_place, table_name, foreign = _manifest_table(core, str(summary.get("tableArn") or ""))
    incremental = manifest.export_type == ExportType.INCREMENTAL
    window = (manifest.from_time, manifest.to_time) if manifest.from_time and manifest.to_time else None
    return ResolvedExport(
        plan_source=location.url,
        export_id=location.export_id,
        export_type=manifest.export_type or ExportType.FULL,
        export_format=manifest.export_format,
        status=ExportStatus.COMPLETED,
        bucket=location.bucket,
        s3_prefix=location.prefix or "",
        bucket_owner=location.bucket_owner,
        moment=manifest.as_of,
        item_count=manifest.item_count,
        size_bytes=_size(summary.get("billedSizeBytes")),
        table_name=table_name,
        table_display=f"{source_place.alias}:{table_name}" if source_place and source_place.alias else table_name,
        source_place=source_place,
        read_place=place,
        from_url=True,
        manifest=manifest,
        window=window if incremental else None,
        foreign_account=foreign,
        count_basis="the export's manifest-summary.json",
    )


def _manifest_table(core: Core, table_arn: str) -> tuple[Place | None, str | None, str | None]:
    """Where the manifest's table is (None when the bot cannot reach it), its name, and the account the bot cannot
    reach it in (None when it can, or the manifest names no table)."""
    match = TABLE_ARN.match(table_arn)
    if match is None:
        return None, None, None
    ref = TableRef(match["name"], region=match["region"], account_id=match["account"])
    try:
        return core.aws.place_of(ref), match["name"], None
    except (PreconditionFailed, AwsError):
        return None, match["name"], match["account"]


def _require_own_manifest(location: ExportLocation, summary: dict[str, Any]) -> None:
    """A manifest-summary.json naming another export was copied in from elsewhere: its files are not this one's."""
    export_arn = summary.get("exportArn")
    if isinstance(export_arn, str) and export_arn and export_id_of(export_arn) != location.export_id:
        raise PreconditionFailed(
            f"The manifest-summary.json in {location.url} belongs to another export "
            f"(`{export_id_of(export_arn)[:80]}`), not `{location.export_id}`. Nothing was asked.",
            "Give the URL of the folder that export was written to, or find out who copied the manifest there.",
        )


def _size(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _listing_checksum(s3: Any, location: ExportLocation, prefix: str) -> str:
    objects = sorted(list_objects(s3, location, prefix), key=lambda o: str(o["Key"]))
    text = "\n".join(f"{o['Key']} {o.get('ETag', '')} {o.get('Size', '')}" for o in objects)
    return f"data-folder={hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()}"


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
            owner: dict[str, Any] = {"ExpectedBucketOwner": source.bucket_owner} if source.bucket_owner else {}
            body = s3.get_object(Bucket=source.bucket, Key=data_file.key, **owner)["Body"].read(FIRST_LINE_LIMIT)
        except Exception as exc:
            raise translate(exc, "s3:GetObject", f"`s3://{source.bucket}/{data_file.key}`") from exc
        try:
            line = first_line(inflate_gzip([body]), PEEK_LINE)  # a bomb stops inflating at the bound
        except zlib.error:
            line = None
        if line is None:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            return None  # a first line longer than the peek, or not JSON: the loader will say which
        found = record.get("Item") or record.get("Keys") if isinstance(record, dict) else None
        return found if isinstance(found, dict) else None
    return None
