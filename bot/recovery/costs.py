"""What a recovery costs and takes, at list prices, said before anything is approved: the export(s) it starts and the
reads and conditional writes of the repair. Every figure is an estimate and says its basis.

The price basis of a FILTERED full export is NOT CONFIRMED (AWS's pricing page could not be read): DynamoDB's guide
says only the key condition reduces what is read. The estimate assumes the worst case, the whole table at the full
export rate, and says so; if DynamoDB bills only what the key condition reads, it costs far less.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

import msgspec

from bot.aws.pricing import EMBEDDED_PRICES_AS_OF, WRU_PRICE_PER_MILLION, Rates, gib
from bot.money import dollars
from bot.recovery.actions import RepairAction
from bot.recovery.exporting import RecoveryExport
from bot.restores.models import Estimate
from bot.restores.rate import WriteCeiling

RRU_PRICE_PER_MILLION = Decimal("0.125")  # on-demand read request units, us-east-1 list price (halved 2024-11-01)
INCREMENTAL_MINIMUM_BYTES = 10 * 1024 * 1024  # every incremental export is billed at least 10 MB
# Export data (uncompressed) scanned for one key, bytes a second: bench 9 measured 23-29 MB/s end to end against
# moto's S3 and 151-158 MB/s of one core's CPU (29-30 MB/s of gzip); the estimate takes the slower, S3-bound figure
SCAN_BYTES_PER_SECOND = 20 * 1024 * 1024
REPAIR_ITEMS_PER_SECOND = 1000  # conditional writes without `rate=`: a read and a write each, in a few threads


def filtered_export_note(rates: Rates, table_bytes: int) -> str:
    """The filtered export's price, with its unconfirmed basis."""
    bound = dollars(gib(table_bytes) * rates.export_full_gb)
    return (
        f"Filtered export: at most {bound} ({gib(table_bytes):.2f} GB table at {dollars(rates.export_full_gb)}/GB, the "
        f"full-export rate, {rates.region} list price). NOT CONFIRMED: how AWS bills a filtered export; its guide "
        "says only the key condition reduces what DynamoDB reads, so it likely costs far less."
    )


def incremental_exports_note(rates: Rates, count: int) -> str:
    """What the window's incremental exports cost: per GB of changed data, at least 10 MB each."""
    least = dollars(gib(INCREMENTAL_MINIMUM_BYTES * count) * rates.export_incremental_gb)
    return (
        f"{count} incremental export(s) at {dollars(rates.export_incremental_gb)}/GB of changed data, each billed at "
        f"least 10 MB: at least {least} ({rates.region} list price); the exact figure is in the request."
    )


def exports_cost(rates: Rates, exports: Iterable[RecoveryExport]) -> Decimal:
    """What the finished exports were billed (incrementals at least 10 MB each; filtered full exports at the full rate
    on what DynamoDB reports billing)."""
    total = Decimal(0)
    for export in exports:
        billed = export.billed_bytes or 0
        if export.export_type == "INCREMENTAL_EXPORT":
            total += gib(max(billed, INCREMENTAL_MINIMUM_BYTES)) * rates.export_incremental_gb
        else:
            total += gib(billed) * rates.export_full_gb
    return total


def scan_seconds(data_bytes: int) -> float:
    """How long scanning that much export data for one key takes on one core."""
    return data_bytes / SCAN_BYTES_PER_SECOND


def repair_estimate(
    rates: Rates, actions: Sequence[RepairAction], exports: Sequence[RecoveryExport], ceiling: WriteCeiling | None
) -> Estimate:
    """The repair's reads and writes in request units at the on-demand price, plus what its exports were billed; the
    duration at the ceiling (`rate=`) or at the writer's usual pace."""
    write_units = sum(
        _units(action.target if action.target is not None else action.expected, 1024) for action in actions
    )
    read_units = sum(_units(action.expected, 4096) for action in actions)
    cost = (Decimal(write_units) * WRU_PRICE_PER_MILLION + Decimal(read_units) * RRU_PRICE_PER_MILLION) / Decimal(
        1_000_000
    ) + exports_cost(rates, exports)
    seconds = write_units / ceiling.units if ceiling else len(actions) / REPAIR_ITEMS_PER_SECOND
    basis = (
        f"{len(actions):,} key(s): about {write_units:,} write units (conditional PutItem/DeleteItem, 1 per KB, spent "
        f"even when a condition fails) and {read_units:,} read units (a consistent read of each key just before its "
        f"write) at {dollars(WRU_PRICE_PER_MILLION)}/{dollars(RRU_PRICE_PER_MILLION)} per million on-demand units "
        f"(us-east-1 list prices of {EMBEDDED_PRICES_AS_OF}; a provisioned table uses its capacity instead), plus "
        f"{dollars(exports_cost(rates, exports))} for the export(s) already run ({rates.region} list price)"
    )
    return Estimate(dollars(cost), seconds, basis)


def _written(action: RepairAction) -> dict[str, object] | None:
    """A put is billed on the item written, a delete on the item deleted."""
    return action.target if action.target is not None else action.expected


def _units(item: dict[str, object] | None, unit_bytes: int) -> int:
    if item is None:
        return 1
    return max(1, math.ceil(len(msgspec.json.encode(item)) / unit_bytes))
