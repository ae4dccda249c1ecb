"""Exports named by their S3 URL (any bucket the bot can read), and a look at an export's first item."""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from dataclasses import replace
from typing import Any

from bot.aws import Place, translate
from bot.core import Core
from bot.export_files import parse_s3_export_url, read_manifest
from bot.models import COMPLETED, FULL_EXPORT, export_id_of
from bot.restore_sources import ResolvedExport, from_job, read_source_manifest
from bot.tables import TABLE_ARN, TableRef

logger = logging.getLogger(__name__)
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
        export_type=manifest.export_type or FULL_EXPORT,
        export_format=manifest.export_format,
        status=COMPLETED,
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
