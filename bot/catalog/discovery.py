"""Find exports in the buckets and prefixes the bot exports to, by their manifest-summary.json, and keep them.

Discovery runs on demand, when `/ddb-catalog` is asked, not as claimed background work: what it writes is one
insert per summary, each final and idempotent (a summary already recorded is never read again), so a look that
dies halfway loses nothing and the next look carries on; nothing is owed to anyone that a takeover would have to
finish. Each look lists the location (ListObjectsV2, 1,000 keys a request, at most MAX_LISTED keys) and reads only
the summaries it has not seen: the cost grows with the new exports, not with the catalogue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.accounts import Place
from bot.aws.errors import translate
from bot.catalog.models import Discovery
from bot.catalog.store import CatalogStore
from bot.core import Core
from bot.errors import BotError
from bot.exports.files import (
    SUMMARY_NAME,
    ExportManifestInvalid,
    InvalidExportUrl,
    parse_s3_export_url,
    read_summary,
)
from bot.exports.start import ExportOptions, resolve_destination

logger = logging.getLogger(__name__)
MAX_LISTED = 200_000  # keys one look lists per location (200 requests); more is reported, not silently skipped
SUMMARY_SUFFIX = "/" + SUMMARY_NAME


@dataclass(frozen=True)
class Location:
    """A bucket and prefix exports are written under (prefix "" is the whole bucket)."""

    bucket: str
    prefix: str
    owner: str | None = None

    @property
    def key_prefix(self) -> str:
        """What ListObjectsV2 is given: the prefix as a folder."""
        return f"{self.prefix}/" if self.prefix else ""

    @property
    def url(self) -> str:
        """The location as an S3 URL, for messages."""
        return f"s3://{self.bucket}/{self.key_prefix}"


def locations_for(core: Core, table_key: str, table_text: str) -> list[Location]:
    """Where the table's exports go: its default destination (command defaults, the table's config entry,
    DDBBOT_EXPORT_*) and the destinations of the config file's schedules of that table."""
    found = []
    try:
        default = resolve_destination(core, table_key, ExportOptions())
        found.append(Location(default.bucket, default.prefix, default.owner))
    except BotError:
        pass  # no default bucket: only the schedules say where exports go
    for spec in core.config.schedules:
        if spec.table in (table_key, table_text) and "bucket" in spec.options:
            options = ExportOptions(bucket=spec.options["bucket"], prefix=spec.options.get("prefix"))
            scheduled = resolve_destination(core, table_key, options)
            found.append(Location(scheduled.bucket, scheduled.prefix, spec.options.get("owner")))
    return list(dict.fromkeys(found))


def discover(core: Core, store: CatalogStore, place: Place, locations: list[Location]) -> Discovery:
    """Look through each location once; new summaries are recorded, unreadable ones recorded with why."""
    new, cut, failures, unreadable = 0, [], [], []
    for location in locations:
        try:
            added, complete = _look(core, store, place, location)
        except BotError as error:
            logger.warning(
                "catalog.discovery_failed", extra={"location": location.url, "error_type": type(error).__name__}
            )
            failures.append(f"{location.url}: {error.message} {error.fix or ''}".strip())
            continue
        new += added
        if not complete:
            cut.append(location.url)
        unreadable += store.unreadable(location.bucket, location.key_prefix)
    logger.info("catalog.discovered", extra={"locations": len(locations), "new": new})
    return Discovery(new, tuple(loc.url for loc in locations), tuple(unreadable), tuple(cut), tuple(failures))


def _look(core: Core, store: CatalogStore, place: Place, location: Location) -> tuple[int, bool]:
    """(summaries recorded now, whether the whole location was listed)."""
    s3 = core.aws.s3(place)
    known = store.known_keys(location.bucket, location.key_prefix)
    owner: dict[str, Any] = {"ExpectedBucketOwner": location.owner} if location.owner else {}
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=location.bucket, Prefix=location.key_prefix, PaginationConfig={"MaxItems": MAX_LISTED + 1}, **owner
    )
    added = listed = 0
    try:
        for page in pages:
            for obj in page.get("Contents", []):
                listed += 1
                if listed > MAX_LISTED:
                    return added, False
                key = obj["Key"]
                if key.endswith(SUMMARY_SUFFIX) and key not in known:
                    added += _record(core, store, place, location, key)
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, "s3:ListBucket", f"bucket `{location.bucket}`") from exc
    return added, True


def _record(core: Core, store: CatalogStore, place: Place, location: Location, key: str) -> bool:
    """Read one new summary and keep it (True), or keep why it cannot be read (False)."""
    try:
        export = parse_s3_export_url(f"s3://{location.bucket}/{key}", location.owner)
    except InvalidExportUrl:
        store.record_unreadable(location.bucket, key, "-", "it is not in an export's folder")
        return False
    try:
        summary = read_summary(core.aws.s3(place), export)
    except ExportManifestInvalid as error:  # its bytes are wrong for good; S3 refusing a read is not kept
        store.record_unreadable(location.bucket, key, export.export_id, error.message)
        return False
    if summary is None:
        return False  # deleted since it was listed
    if summary.table_arn is None:
        store.record_unreadable(location.bucket, key, export.export_id, "it names no table (tableArn)")
        return False
    return store.record(summary, key)
