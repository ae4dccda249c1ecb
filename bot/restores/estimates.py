"""What a restore will cost and take, at list prices: every figure is an estimate and says its basis."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from bot.aws.pricing import EMBEDDED_PRICES_AS_OF, WRU_PRICE_PER_MILLION, WRU_PRICE_REGION, Rates, gib
from bot.aws.table_info import TableInfo
from bot.models import ExportType
from bot.money import dollars
from bot.restores.bulk_options import BulkPut
from bot.restores.models import Estimate, TierEstimate
from bot.restores.rate import WriteCeiling
from bot.restores.sources import ResolvedExport

NEW_TABLE_ITEMS_PER_SECOND = 4000
IMPORT_FIXED_SECONDS, IMPORT_SECONDS_PER_GB = 600.0, 60.0
PITR_FIXED_SECONDS, PITR_SECONDS_PER_GB = 900.0, 30.0


def import_estimate(rates: Rates, size_bytes: int | None) -> Estimate:
    """ImportTable is billed per GB of uncompressed source; the export's billed size stands for it."""
    if size_bytes is None:
        return Estimate(None, None, "unknown: the export's size is not known")
    cost = gib(size_bytes) * rates.import_gb
    seconds = IMPORT_FIXED_SECONDS + float(gib(size_bytes)) * IMPORT_SECONDS_PER_GB
    return Estimate(
        dollars(cost),
        seconds,
        f"ImportTable at {dollars(rates.import_gb)}/GB of source ({rates.region} list price, {rates.source}); "
        "duration is a rough guess (AWS publishes no import rate)",
    )


def pitr_estimate(rates: Rates, info: TableInfo) -> Estimate:
    """A PITR restore is billed per GB restored: the table's size."""
    cost = gib(info.size_bytes) * rates.restore_gb
    seconds = PITR_FIXED_SECONDS + float(gib(info.size_bytes)) * PITR_SECONDS_PER_GB
    note = (
        " (DynamoDB reports a size of 0 for this table; its size is refreshed every few hours)"
        if (info.size_bytes == 0 and info.item_count > 0)
        else ""
    )
    return Estimate(
        dollars(cost),
        seconds,
        f"restore at {dollars(rates.restore_gb)}/GB of table size ({rates.region} list price, {rates.source})"
        f"{note}; duration is a rough guess (AWS publishes none)",
    )


def load_estimate(
    sources: Sequence[ResolvedExport], *, on_demand: bool, ceiling: WriteCeiling | None = None
) -> Estimate:
    """BatchWriteItem write request units at the on-demand price; the duration at the ceiling (`rate=`), or at
    ~4,000 writes/s (what a new on-demand table sustains) without one."""
    items = sum(s.item_count or 0 for s in sources)
    units = 0
    for source in sources:
        count = source.item_count or 0
        per_item = 1
        if source.export_type == ExportType.FULL and count and source.size_bytes:
            per_item = max(1, math.ceil(source.size_bytes / count / 1024))
        units += count * per_item
    pace = NEW_TABLE_ITEMS_PER_SECOND if ceiling is None else ceiling.units
    seconds = units / pace if units else 0.0
    cost = Decimal(units) * WRU_PRICE_PER_MILLION / Decimal(1_000_000)
    capacity = (
        "on-demand target"
        if on_demand
        else "provisioned target: no per-request charge, it uses the table's write capacity instead"
    )
    return Estimate(
        dollars(cost) if on_demand else None,
        seconds,
        f"estimate: {units:,} write request units for {items:,} items ({capacity}) at "
        f"${WRU_PRICE_PER_MILLION} per million WRU ({WRU_PRICE_REGION} on-demand list price built in, dated "
        f"{EMBEDDED_PRICES_AS_OF}); "
        + (
            f"duration at ~{NEW_TABLE_ITEMS_PER_SECOND:,} writes/s, what a new on-demand table sustains"
            if ceiling is None
            else f"duration at the ceiling of {ceiling.units:,} write units/s (less if the table pushes back)"
        ),
    )


def bulk_estimate(
    full: ResolvedExport, bulk: BulkPut, tiers: Sequence[TierEstimate], rest: Estimate | None
) -> Estimate:
    """Bulk put for the full export (AWS publishes no price the bot can find: said so, never invented; the duration
    at its ceiling), then the loader's estimate for the incrementals after it (`rest`), each tier shown."""
    chosen = next((tier for tier in tiers if tier.chosen), None)
    seconds = chosen.duration_seconds if chosen else None
    if rest is not None and rest.duration_seconds is not None:
        seconds = (seconds or 0.0) + rest.duration_seconds
    basis = (
        f"bulk put ({bulk.tier.value} tier) of {full.item_count or 0:,} items: {chosen.price if chosen else ''}; "
        f"duration {chosen.duration_basis if chosen else 'unknown'}"
    )
    if rest is not None:
        basis += f". The incrementals after it, by the loader: {rest.basis} (cost {rest.cost_usd or 'not known'})"
    return Estimate(None, seconds, basis, tuple(tiers))
