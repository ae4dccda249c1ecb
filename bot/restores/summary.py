"""What an approver decides on, in one value: the target, the mode, the exports (with their windows, buckets and
owners), what could not be verified, what planning found that they must weigh, the write rate and the estimate.

Built here, from the stored request, by one function; every place someone approves (the approval message, the App
Home tab) renders this same value, so none of them can leave out a line the others show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.restores.models import (
    MODE_NAMES,
    Estimate,
    ImportOptions,
    LoadOptions,
    PitrOptions,
    RestoreRequest,
    SourceSummary,
    TierEstimate,
)
from bot.restores.repairs import RepairOptions
from bot.timefmt import duration, iso
from bot.words import plural


@dataclass(frozen=True)
class PlanSummary:
    """One request as approvers see it; the texts are plain (renderers escape them)."""

    request_id: str
    requested_by: str
    required_approvals: int
    plan_hash: str
    button_value: str
    target: str
    region: str
    mode: str
    expires_at: datetime
    write_rate: str | None
    engine: str | None  # `into=`: which engine writes it, and why (None: plans stored before the choice)
    sources: tuple[SourceSummary, ...]
    buckets: tuple[tuple[str, str | None], ...]  # buckets named by S3 URL, with the owner S3 checks (None: none)
    unverified: tuple[str, ...]  # what about the exports' files could not be checked
    notes: tuple[str, ...]  # what planning found that approvers must weigh
    estimate: Estimate | None
    tiers: tuple[TierEstimate, ...] = ()  # bulk put: each tier's price and duration, for approvers to compare


def plan_summary(request: RestoreRequest) -> PlanSummary:
    """The summary of one request, from its plan and what planning stored with it."""
    named = len(request.sources) > 1
    return PlanSummary(
        request_id=request.id,
        requested_by=request.requested_by,
        required_approvals=request.required_approvals,
        plan_hash=request.plan_hash,
        button_value=request.button_value,
        target=request.target_display,
        region=request.plan.region,
        mode=mode_line(request),
        expires_at=request.expires_at,
        write_rate=_write_rate(request),
        engine=_engine(request),
        sources=request.sources,
        buckets=tuple(dict.fromkeys((s.bucket, s.owner) for s in request.sources if s.bucket)),
        unverified=tuple(
            f"Export {s.export_id}: {reason}" if named and s.export_id else reason
            for s in request.sources
            for reason in s.unverified
        ),
        notes=request.notes,
        estimate=request.estimate,
        tiers=request.estimate.tiers if request.estimate else (),
    )


def mode_line(request: RestoreRequest) -> str:
    """The mode in words: ImportTable's key schema and its basis, the PITR moment, or the loader's exports."""
    base = MODE_NAMES.get(request.mode, request.mode)
    options = request.plan.options
    if isinstance(options, ImportOptions):
        billing = "on-demand" if options.table.get("BillingMode") == "PAY_PER_REQUEST" else "provisioned"
        keys = ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in options.table.get("KeySchema", []))
        gsis = len(options.table.get("GlobalSecondaryIndexes") or [])
        basis = f" from {options.schema_basis}" if options.schema_basis else ""
        return f"{base}: key {keys}{basis}, {plural(gsis, 'GSI')}, {billing}"
    if isinstance(options, PitrOptions):
        moment = iso(options.restore_time) if options.restore_time else "the latest restorable time"
        return f"{base} as of {moment}"
    if isinstance(options, LoadOptions) and options.by_bulk and options.bulk is not None:
        rest = len(request.plan.sources) - 1
        after = f", then {plural(rest, 'incremental export')} by the loader once it finished" if rest else ""
        return f"{base}: the full export by DynamoDB's bulk put ({options.bulk.tier.value} tier){after}"
    if isinstance(options, RepairOptions):
        return f"{base}: {repair_scope(options)}"
    return f"{base} ({plural(len(request.plan.sources), 'export')}, puts and deletes in time order)"


def _engine(request: RestoreRequest) -> str | None:
    """Which engine writes an `into=` restore and why."""
    options = request.plan.options
    if not isinstance(options, LoadOptions) or options.engine is None:
        return None
    name = "DynamoDB's bulk put" if options.by_bulk else "the bot's loader"
    return f"{name}: {options.engine_reason}" if options.engine_reason else name


def repair_scope(options: RepairOptions) -> str:
    """What a repair covers, as plain text: the key and its time, or the window (and filter)."""
    writes = f"{options.puts:,} put(s) and {options.deletes:,} delete(s) at most, each under its own condition"
    if options.item_key:
        return f"{options.item_key} as of {iso(options.at)}; {writes}"
    where = f" where {options.where}" if options.where else ""
    return f"changes from {iso(options.since)} to {iso(options.until)}{where} undone; {writes}"


def _write_rate(request: RestoreRequest) -> str | None:
    """The loader's ceiling and the duration it implies: approvers decide how hard a live table is written."""
    options = request.plan.options
    if not isinstance(options, LoadOptions):
        return None
    if options.by_bulk and options.bulk is not None:
        asked = f" ({options.ceiling.describe()} asked)" if options.ceiling else ""
        return f"MaxWriteRequestUnits {options.bulk.max_write_units:,} a second for bulk put{asked}"
    if options.ceiling is None:
        return "no ceiling: as fast as the table takes (it backs off when throttled)"
    seconds = request.estimate.duration_seconds if request.estimate else None
    at_rate = f" · about {duration(seconds)} at that rate" if seconds else ""
    return f"at most {options.ceiling.describe()}{at_rate}"
