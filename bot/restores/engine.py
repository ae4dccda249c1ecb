"""Which engine writes an `into=` restore: DynamoDB's own bulk put (StartBulkPutItems) for the chain's full export
where it applies, else the bot's loader; the plan says which and why.

Bulk put applies when the first export is a full one in DynamoDB JSON or Ion, the target is not a global table,
is ACTIVE and builds no index, the region answers bulk put (a ListBulkOperations probe: a region without it, or a
role without the permission, says so), the tier is offered there, the input is within the quotas (at most 50,000
objects of at most 5 GB each, documented; a total per tier, NOT CONFIRMED by AWS, so a setting with a conservative
default), the ceiling (`rate=`) resolves to at least bulk put's minimum of 1,024 write units a second, and there is
a bucket for its failed-items report. `engine=bulk` insists (refused with the reason when it cannot run);
`engine=loader` insists on the loader. The incrementals after a full export always go through the loader: they
carry deletes, which bulk put cannot express.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from bot.aws.accounts import Place
from bot.aws.errors import error_code
from bot.aws.tables import TableRef
from bot.core import Core
from bot.errors import PreconditionFailed
from bot.exports.files import list_objects
from bot.models import ExportFormat, ExportType
from bot.restores.bulk_options import (
    MAX_INPUT_OBJECTS,
    MAX_OBJECT_BYTES,
    MIN_WRITE_UNITS,
    BulkPut,
    Engine,
    Tier,
)
from bot.restores.models import TierEstimate
from bot.restores.rate import WriteCeiling, table_write_capacity
from bot.restores.sources import ResolvedExport, configured_buckets, import_checksum, import_data_prefix
from bot.timefmt import size

GB = 1024**3
PROBE_CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=5)  # a planning probe: no waiting
BULK_FORMATS = frozenset({ExportFormat.DYNAMODB_JSON, ExportFormat.ION})
REPORT_FOLDER = "bulk-put-reports"
PRICE_UNPUBLISHED = "price not published; billed per bulk put byte"
DEFAULT_TIER_LIMIT_GB = 100


@dataclass(frozen=True)
class BulkPolicy:
    """What the bot assumes where AWS's bulk put numbers are not confirmed: the most input bytes one operation of
    each tier may read (DDBBOT_BULK_MAX_INPUT_GB_STANDARD / _ACCELERATED) and the Regions known to offer the
    accelerated tier (DDBBOT_BULK_ACCELERATED_REGIONS; AWS's list is not confirmed, so none by default)."""

    max_input_bytes: Mapping[Tier, int] = field(default_factory=lambda: dict.fromkeys(Tier, DEFAULT_TIER_LIMIT_GB * GB))
    accelerated_regions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EngineChoice:
    """The engine, why, bulk put's parameters when it runs, and notes approvers must read."""

    engine: Engine
    reason: str
    bulk: BulkPut | None = None
    notes: tuple[str, ...] = ()
    tiers: tuple[TierEstimate, ...] = ()


@dataclass(frozen=True)
class EngineAsk:
    """What the request said about the engine: `engine=` and `tier=` (None: not said)."""

    engine: Engine | None
    tier: Tier | None


def choose_engine(
    core: Core,
    ask: EngineAsk,
    ordered: Sequence[ResolvedExport],
    target: tuple[TableRef, Place, Mapping[str, Any]],
    ceiling: WriteCeiling | None,
    policy: BulkPolicy,
) -> EngineChoice:
    """The engine for these exports into this table (DescribeTable's `Table` as `target[2]`); raises
    PreconditionFailed when what was asked cannot run."""
    ref, place, table = target
    first = ordered[0]
    _require_loader_can_read(ordered[1:], "the incremental exports after it")
    tier = ask.tier or Tier.STANDARD
    if ask.engine == Engine.LOADER:
        _require_loader_can_read(ordered[:1], "it")
        return EngineChoice(Engine.LOADER, "asked for with `engine=loader`")
    units = _bulk_units(ceiling, table)
    blocked = _why_not_bulk(core, first, (ref, place, table), tier, policy, units, insisted=ask.engine == Engine.BULK)
    if blocked is not None:
        return _fallback(ask, first, blocked)
    notes = []
    if units < MIN_WRITE_UNITS:
        notes.append(
            f"`rate=` resolves to {units:,} write units a second, below bulk put's minimum MaxWriteRequestUnits of "
            f"{MIN_WRITE_UNITS:,}: asked for with `engine=bulk`, the operation may write up to {MIN_WRITE_UNITS:,} a "
            "second, more than asked."
        )
    bulk = _bulk_put(core, first, place, max(units, MIN_WRITE_UNITS), tier)
    reason = (
        "asked for with `engine=bulk`"
        if ask.engine == Engine.BULK
        else "the full export can be written by DynamoDB's own bulk put (StartBulkPutItems), which scales with "
        "DynamoDB rather than with the bot's machine"
    )
    if len(ordered) > 1:
        reason += "; the incremental exports after it go through the loader once it finished (they carry deletes)"
    return EngineChoice(Engine.BULK, reason, bulk, tuple(notes), tier_estimates(first, bulk, place, policy))


def _fallback(ask: EngineAsk, first: ResolvedExport, blocked: str) -> EngineChoice:
    """Bulk put cannot run: refused when insisted on, or when only the loader remains and it cannot read the
    export (Ion); else the loader, saying why."""
    if ask.engine == Engine.BULK:
        raise PreconditionFailed(
            f"`engine=bulk` cannot run: {blocked}. Nothing was asked.",
            "Leave out `engine=bulk` and the loader writes the exports instead.",
        )
    if first.export_format == ExportFormat.ION:
        raise PreconditionFailed(
            f"Export `{first.export_id}` is in Ion, which only DynamoDB's bulk put can read, and bulk put cannot run "
            f"here: {blocked}. Only the loader could run, and it reads DynamoDB JSON only. Nothing was asked.",
            "Restore it into a new table with `to=` (ImportTable reads Ion), or export the table again in "
            "DynamoDB JSON.",
        )
    return EngineChoice(Engine.LOADER, f"bulk put cannot run: {blocked}")


def _require_loader_can_read(exports: Sequence[ResolvedExport], which: str) -> None:
    ion = [e for e in exports if e.export_format == ExportFormat.ION]
    if ion:
        raise PreconditionFailed(
            f"Export `{ion[0].export_id}` is in Ion, and {which} can only be written by the loader, which reads "
            "DynamoDB JSON only. Nothing was asked.",
            "Export the table in DynamoDB JSON for `into=` chains (a full Ion export alone goes through bulk put).",
        )


def _why_not_bulk(
    core: Core,
    first: ResolvedExport,
    target: tuple[TableRef, Place, Mapping[str, Any]],
    tier: Tier,
    policy: BulkPolicy,
    units: int,
    *,
    insisted: bool,
) -> str | None:
    """The first reason bulk put cannot write this export into this table, in words (None: it can)."""
    ref, place, table = target
    if first.export_type != ExportType.FULL:
        return "the first export is incremental, and bulk put only writes items (it cannot apply deletes)"
    if first.export_format not in BULK_FORMATS:
        return f"export `{first.export_id}` is in {first.export_format}, which bulk put does not read"
    for check in (_global_table, _table_busy):
        found = check(ref, table)
        if found is not None:
            return found
    if units < MIN_WRITE_UNITS and not insisted:
        return (
            f"the ceiling resolves to {units:,} write units a second, below bulk put's minimum MaxWriteRequestUnits "
            f"of {MIN_WRITE_UNITS:,}, so the loader keeps to it"
        )
    if tier == Tier.ACCELERATED and place.region not in policy.accelerated_regions:
        return (
            f"the accelerated tier is not known to be offered in {place.region} (AWS's list of Regions is not "
            "published to the bot: DDBBOT_BULK_ACCELERATED_REGIONS lists the ones it may use)"
        )
    if _report_bucket(core, first) is None:
        return "there is no bucket for its failed-items report (set DDBBOT_EXPORT_BUCKET)"
    unanswered = _probe(core, place)
    if unanswered is not None:
        return unanswered
    return _over_quota(core, first, tier, policy)


def _global_table(ref: TableRef, table: Mapping[str, Any]) -> str | None:
    replicas = [str(r.get("RegionName")) for r in table.get("Replicas") or [] if isinstance(r, Mapping)]
    if replicas or table.get("GlobalTableVersion"):
        where = f" (replicas in {', '.join(replicas)})" if replicas else ""
        return f"`{ref.display}` is a global table{where}, and DynamoDB's bulk put does not write into global tables"
    return None


def _table_busy(ref: TableRef, table: Mapping[str, Any]) -> str | None:
    status = str(table.get("TableStatus") or "ACTIVE")
    if status != "ACTIVE":
        return f"`{ref.display}` is {status}, and bulk put needs an ACTIVE table"
    for index in table.get("GlobalSecondaryIndexes") or []:
        if index.get("IndexStatus") == "CREATING" or index.get("Backfilling"):
            return f"`{ref.display}` is building index `{index.get('IndexName')}`, and bulk put cannot run meanwhile"
    if (table.get("RestoreSummary") or {}).get("RestoreInProgress"):
        return f"`{ref.display}` is still being restored"
    return None


def _probe(core: Core, place: Place) -> str | None:
    """ListBulkOperations, once and without retries: DynamoDB there answers bulk put, or why not in words."""
    client: Any = core.aws.client(place, "dynamodb", PROBE_CONFIG)
    try:
        client.list_bulk_operations(MaxResults=1)
    except Exception as exc:
        code = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        if code in {"AccessDeniedException", "AccessDenied"}:
            return "the bot's role may not call dynamodb:ListBulkOperations (deploy/iam-policy.json grants it)"
        return f"DynamoDB in {place.region} did not answer ListBulkOperations ({code or 'no answer'})"
    return None


def _over_quota(core: Core, first: ResolvedExport, tier: Tier, policy: BulkPolicy) -> str | None:
    return quota_problem([int(o.get("Size") or 0) for o in _input_objects(core, first)], tier, policy)


def quota_problem(sizes: Sequence[int], tier: Tier, policy: BulkPolicy) -> str | None:
    """Why input objects of these sizes are more than one bulk operation of this tier reads (None: they fit)."""
    if len(sizes) > MAX_INPUT_OBJECTS:
        return f"its data folder holds {len(sizes):,} objects, more than bulk put's {MAX_INPUT_OBJECTS:,}"
    if sizes and max(sizes) > MAX_OBJECT_BYTES:
        return f"a data file is {size(max(sizes))}, more than bulk put's {size(MAX_OBJECT_BYTES)} per object"
    limit = policy.max_input_bytes.get(tier, DEFAULT_TIER_LIMIT_GB * GB)
    if sum(sizes) > limit:
        return (
            f"its data files hold {size(sum(sizes))}, more than the {size(limit)} the bot lets one {tier.value} bulk "
            f"operation read (DDBBOT_BULK_MAX_INPUT_GB_{tier.name}; AWS's own limit is not published to the bot)"
        )
    return None


def _input_objects(core: Core, first: ResolvedExport) -> list[dict[str, Any]]:
    place = first.read_place or first.source_place or Place(None, core.aws.default_region)
    return list_objects(core.aws.s3(place), first.location, import_data_prefix(core, first))


def _report_bucket(core: Core, first: ResolvedExport) -> tuple[str, str, str | None] | None:
    """Where the failed-items report goes: the bot's export bucket, else the export's own bucket when it is one of
    the configured ones (never a bucket named only by an S3 URL); (bucket, prefix, owner)."""
    if core.defaults.bucket:
        return core.defaults.bucket, core.defaults.prefix, core.defaults.owner
    configured = configured_buckets(core)
    if first.bucket in configured:
        return first.bucket, first.s3_prefix, configured[first.bucket]
    return None


def _bulk_put(core: Core, first: ResolvedExport, place: Place, units: int, tier: Tier) -> BulkPut:
    key_prefix = import_data_prefix(core, first)
    objects = _input_objects(core, first)
    report = _report_bucket(core, first)
    assert report is not None  # checked by _why_not_bulk
    bucket, prefix, owner = report
    return BulkPut(
        export_id=first.export_id,
        bucket=first.bucket,
        bucket_owner=first.bucket_owner,
        key_prefix=key_prefix,
        input_format=first.export_format,
        compression="GZIP",
        max_write_units=units,
        tier=tier,
        report_bucket=bucket,
        report_prefix=f"{prefix.strip('/')}/{REPORT_FOLDER}/".lstrip("/"),
        report_owner=owner,
        input_checksum=import_checksum(core, first, key_prefix),
        objects=len(objects),
        input_bytes=sum(int(o.get("Size") or 0) for o in objects),
    )


def _bulk_units(ceiling: WriteCeiling | None, table: Mapping[str, Any]) -> int:
    """MaxWriteRequestUnits: the resolved `rate=`, else the table's own write capacity."""
    return ceiling.units if ceiling is not None else table_write_capacity(table)[0]


def write_units_of(source: ResolvedExport) -> int:
    """Write request units the export's items take: one per started KB of each item (its billed size spread
    evenly over its items)."""
    count = source.item_count or 0
    if not count:
        return 0
    per_item = max(1, math.ceil(source.size_bytes / count / 1024)) if source.size_bytes else 1
    return count * per_item


def tier_estimates(first: ResolvedExport, bulk: BulkPut, place: Place, policy: BulkPolicy) -> tuple[TierEstimate, ...]:
    """Both tiers as approvers compare them: price (not published: said so) and duration at the ceiling."""
    units = write_units_of(first)
    seconds = units / bulk.max_write_units if units else None
    volume = f" ({size(first.size_bytes)} of items, plus what each secondary index stores)" if first.size_bytes else ""
    at_ceiling = f"{units:,} write units at the ceiling of {bulk.max_write_units:,} a second"
    return (
        TierEstimate(
            Tier.STANDARD.value,
            PRICE_UNPUBLISHED + volume,
            seconds,
            f"at least this: {at_ceiling}; AWS runs the standard tier for cost, with flexible completion times",
            chosen=bulk.tier == Tier.STANDARD,
        ),
        TierEstimate(
            Tier.ACCELERATED.value,
            PRICE_UNPUBLISHED + volume + ", at a higher price point than standard",
            seconds,
            f"about this: {at_ceiling}; AWS aims the accelerated tier at a higher throughput",
            chosen=bulk.tier == Tier.ACCELERATED,
            offered=None
            if place.region in policy.accelerated_regions
            else f"not known to be offered in {place.region} (DDBBOT_BULK_ACCELERATED_REGIONS)",
        ),
    )
