"""What backups of a table cost: PITR per month, exports before and after, S3 storage of kept exports."""

from __future__ import annotations

from decimal import Decimal

from bot.aws.accounts import Place
from bot.aws.pricing import Rates, gib
from bot.aws.table_info import TableInfo
from bot.core import Core
from bot.models import ExportJob, ExportStatus, ExportType
from bot.money import CostReport, ExportCost, ExportPrice, TableSize
from bot.timefmt import iso, size

INCREMENTAL_MINIMUM_BYTES = 10_000_000
ASSUMED_DAILY_CHANGE = Decimal("0.10")
MAX_LIST_PAGES = 5


def export_cost(job: ExportJob, rates: Rates) -> Decimal | None:
    """List-price cost of a finished export: full per GB of table size, incremental per GB with a 10 MB minimum."""
    if job.billed_size_bytes is None:
        return None
    if job.export_type == ExportType.INCREMENTAL:
        return gib(max(job.billed_size_bytes, INCREMENTAL_MINIMUM_BYTES)) * rates.export_incremental_gb
    return gib(job.billed_size_bytes) * rates.export_full_gb


def export_price(core: Core, job: ExportJob) -> ExportPrice:
    """What a finished export cost at its region's list prices, and the prices used (shown with its result)."""
    rates = core.prices.rates(job.region)
    return ExportPrice(export_cost(job, rates), rates)


def table_size(core: Core, info: TableInfo) -> TableSize:
    """DynamoDB's size, or the last export's billed size when DynamoDB still says 0 for a table with items."""
    if info.size_bytes > 0:
        return TableSize(info.size_bytes, info.item_count)
    last = _last_completed(core.store.recent_exports(info.ref.key, limit=20), full_only=True)
    has_items = info.item_count > 0 or bool(last and last.item_count)
    if not has_items:
        return TableSize(0, info.item_count)
    if last is not None and last.billed_size_bytes:
        return TableSize(
            last.billed_size_bytes,
            max(info.item_count, last.item_count or 0),
            f"DynamoDB reports a size of 0 for this table (it refreshes sizes only every few hours), so the "
            f"size is estimated from export {last.export_id} of {iso(last.ended_at)}: "
            f"{size(last.billed_size_bytes)} billed.",
        )
    return TableSize(
        0,
        info.item_count,
        "DynamoDB reports a size of 0 for this table although it has items (it refreshes sizes only every few "
        "hours) and no finished export to estimate from exists yet: the figures below are too low. "
        "An export measures the size.",
    )


def cost_report(core: Core, table_text: str) -> CostReport:
    """Compute the cost report of one table."""
    ref, place = core.table(table_text)
    info, window = core.describe(ref, place)
    rates = core.rates(place)
    measured = table_size(core, info)
    jobs = [j for j in core.store.recent_exports(ref.key, limit=50) if j.status == ExportStatus.COMPLETED]
    incremental, incremental_basis = _incremental_estimate(jobs, measured, rates)
    retained, retained_basis = _retained_bytes(core, jobs)
    gb = gib(measured.size_bytes)
    recent = [ExportCost(j, c) for j in jobs[:5] if (c := export_cost(j, rates)) is not None]
    return CostReport(
        table=info,
        size=measured,
        basis=rates,
        pitr_enabled=window.enabled,
        pitr_monthly=gb * rates.pitr_gb_month,
        full_export=gb * rates.export_full_gb,
        incremental_export=incremental,
        incremental_basis=incremental_basis,
        retained_bytes=retained,
        retained_monthly=gib(retained) * rates.s3_standard_gb_month,
        retained_basis=retained_basis,
        recent=recent,
    )


def _last_completed(jobs: list[ExportJob], *, full_only: bool) -> ExportJob | None:
    for job in jobs:
        if job.status == ExportStatus.COMPLETED and (not full_only or job.export_type != ExportType.INCREMENTAL):
            return job
    return None


def _incremental_estimate(jobs: list[ExportJob], measured: TableSize, rates: Rates) -> tuple[Decimal, str]:
    billed = [j.billed_size_bytes for j in jobs if j.export_type == ExportType.INCREMENTAL and j.billed_size_bytes]
    if billed:
        average = sum(billed) // len(billed)
        basis = f"average of the last {len(billed)} incremental exports ({size(average)} each)"
        return gib(max(average, INCREMENTAL_MINIMUM_BYTES)) * rates.export_incremental_gb, basis
    assumed = int(Decimal(measured.size_bytes) * ASSUMED_DAILY_CHANGE)
    basis = "assuming a day changes 10% of the table (no incremental export yet); 10 MB minimum per export"
    return gib(max(assumed, INCREMENTAL_MINIMUM_BYTES)) * rates.export_incremental_gb, basis


def _retained_bytes(core: Core, jobs: list[ExportJob]) -> tuple[int, str]:
    """Bytes kept in S3 by this table's exports: listed where the bot can, else their billed sizes."""
    listed_total, listed, estimated = 0, 0, 0
    for job in jobs:
        try:
            s3 = core.aws.s3(Place(job.account_alias, job.region))
            listed_total += _folder_bytes(s3, job.bucket, f"{job.s3_prefix}/")
            listed += 1
        except Exception:
            listed_total += job.billed_size_bytes or 0
            estimated += 1
    if not jobs:
        return 0, "no finished exports of this table are known to the bot"
    basis = f"{len(jobs)} finished exports: {listed} measured in S3"
    if estimated:
        basis += f", {estimated} estimated from billed size (S3 not readable)"
    return listed_total, basis


def _folder_bytes(s3: object, bucket: str, prefix: str) -> int:
    paginator = s3.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    total = 0
    for page_number, page in enumerate(paginator.paginate(Bucket=bucket, Prefix=prefix)):
        total += sum(int(obj.get("Size", 0)) for obj in page.get("Contents", []))
        if page_number + 1 >= MAX_LIST_PAGES:
            break
    return total
