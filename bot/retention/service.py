"""`/ddb-retention <table>`'s use case: read the rules of the buckets the table's exports lie in, say when each
export goes, what that breaks, and propose the rule that keeps what was asked (read only: nothing is changed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.catalog.models import CatalogEntry
from bot.catalog.service import Catalogue, table_listing
from bot.core import Core
from bot.errors import BotError
from bot.exports.start import ExportOptions, resolve_destination
from bot.models import ExportType
from bot.retention.buckets import BucketKeeping, read_bucket_keeping
from bot.retention.fates import fates, warnings
from bot.retention.models import Proposal, RetentionAsk, RetentionReport
from bot.retention.proposal import full_interval, propose, rule_days


@dataclass(frozen=True)
class Retention:
    """What the retention use cases need, built once in bootstrap; `deleted` gives the ids of exports deleted early."""

    catalogue: Catalogue
    deleted: Callable[[], set[str]] = field(default=set)


def retention_report(retention: Retention, table_text: str, asked: RetentionAsk) -> RetentionReport:
    """The table's exports with the moment the rules delete each, the warnings, and the proposed rule."""
    catalogue = retention.catalogue
    listing = table_listing(catalogue, table_text)
    core = catalogue.core
    ref, place = core.table(table_text)
    defaults = core.config.defaults_for(listing.table)
    ask = RetentionAsk(
        asked.keep_days if asked.keep_days is not None else defaults.keep_days,
        asked.fulls if asked.fulls is not None else defaults.fulls,
    )
    places = _bucket_prefixes(core, listing.table, ref.name, list(listing.entries))
    s3 = core.aws.s3(place)
    keepings = tuple(read_bucket_keeping(s3, bucket, prefix, owner=owner) for bucket, (prefix, owner) in places.items())
    now = core.clock()
    found = fates(listing.entries, keepings, retention.deleted())
    return RetentionReport(
        table=listing.table,
        ask=ask,
        now=now,
        keepings=keepings,
        fates=tuple(found),
        warnings=tuple(warnings(found, ask, keepings, now, full_interval(listing.entries))),
        proposals=_proposals(listing.table, ask, list(listing.entries), keepings),
    )


def _bucket_prefixes(
    core: Core, table_key: str, table_name: str, entries: list[CatalogEntry]
) -> dict[str, tuple[str, str | None]]:
    """Each bucket the table's exports lie in (or go to by default), with the folder shared by all of them there
    (`<prefix>/<table>/` for the bot's own) and the bucket's expected owner."""
    folders: dict[str, list[str]] = {}
    owners: dict[str, str | None] = {}
    try:
        destination = resolve_destination(core, table_key, ExportOptions())
    except BotError:
        destination = None
    if destination is not None:
        base = "/".join(p for p in (destination.prefix, table_name) if p) + "/"
        folders[destination.bucket] = [base]
        owners[destination.bucket] = destination.owner
    for entry in entries:
        folders.setdefault(entry.bucket, []).append(entry.location.folder)
        owners.setdefault(entry.bucket, entry.bucket_owner)
    return {bucket: (_shared_folder(paths), owners[bucket]) for bucket, paths in folders.items()}


def _shared_folder(paths: list[str]) -> str:
    """The longest run of whole folders every path starts with ("" when they share none)."""
    shared = paths[0].split("/")[:-1]
    for path in paths[1:]:
        parts = path.split("/")[:-1]
        length = next(
            (i for i, (a, b) in enumerate(zip(shared, parts, strict=False)) if a != b), min(len(shared), len(parts))
        )
        shared = shared[:length]
    return "".join(f"{part}/" for part in shared)


def _proposals(
    table: str, ask: RetentionAsk, entries: list[CatalogEntry], keepings: tuple[BucketKeeping, ...]
) -> tuple[Proposal, ...]:
    incrementals = any(e.export_type == ExportType.INCREMENTAL for e in entries)
    derived = rule_days(ask, full_interval(entries), incrementals)
    if derived is None:
        return ()
    days, why = derived
    return tuple(propose(table, keeping.bucket, keeping.prefix, days, why) for keeping in keepings)
