"""What a fire exports: full, or incremental from where the chain ends (or why nothing), decided once and stored
with the run, and the ClientToken that makes a retried fire ask AWS for the very same export."""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.aws.table_info import describe_pitr
from bot.exports.chain import CHAIN_LOOKBACK, Coverage, coverage
from bot.models import MAX_INCREMENTAL_WINDOW, MIN_INCREMENTAL_WINDOW, ExportType
from bot.schedules.models import ExportPlan, Schedule, ScheduleType
from bot.schedules.service import ScheduleCore
from bot.timefmt import iso

SKIP = "SKIP"


def client_token(schedule_id: str, fire_time: datetime) -> str:
    """The ClientToken of a fire: the same fire always asks for the same export."""
    return hashlib.sha256(f"ddb-backup-bot/schedule/{schedule_id}/{iso(fire_time)}".encode()).hexdigest()[:32]


def plan_export(sc: ScheduleCore, schedule: Schedule, fire_time: datetime) -> ExportPlan:
    """Full, or incremental from where the chain ends to the fire (or PITR's latest time), or why not."""
    if schedule.export_type == ScheduleType.FULL:
        return ExportPlan(ExportType.FULL)
    ref, place = sc.core.table(schedule.table)
    window = describe_pitr(sc.core.aws.dynamodb(place), ref, place)
    if not window.enabled:
        return ExportPlan(ExportType.FULL)  # the export's pre-flight says PITR is off and how to turn it on
    until = min(fire_time, window.latest) if window.latest else fire_time
    at = until if window.contains(until) else None
    chain = coverage(sc.core.store.schedule_exports(schedule.id, CHAIN_LOOKBACK))
    chain_end = chain.end
    if chain_end is None:
        note = "First run of this incremental schedule: a full export starts the chain; later runs export changes."
        return ExportPlan(ExportType.FULL, at=at, note=note)
    if window.earliest is not None and window.earliest > chain_end:
        return ExportPlan(
            ExportType.FULL,
            at=at,
            note=(
                f"The incremental chain is broken: the table's PITR window now starts at {iso(window.earliest)}, "
                f"after the end of the last export ({iso(chain_end)}), so PITR was turned off and on again. "
                "A full export starts a new chain."
            ),
        )
    if until - chain_end > MAX_INCREMENTAL_WINDOW:
        return ExportPlan(
            ExportType.FULL,
            at=at,
            note=(
                f"The incremental chain is broken: the last export ends at {iso(chain_end)}, more than 24 hours "
                f"before {iso(until)}, and one incremental export covers at most 24 hours. "
                "A full export starts a new chain."
            ),
        )
    if until - chain_end < MIN_INCREMENTAL_WINDOW:
        return ExportPlan(
            SKIP,
            note=(
                f"Nothing exported: the chain already covers up to {iso(chain_end)}, and an incremental export "
                f"needs at least 15 minutes (next possible after {iso(chain_end + MIN_INCREMENTAL_WINDOW)})."
            ),
        )
    return ExportPlan(ExportType.INCREMENTAL, since=chain_end, until=until, note=_healing_note(chain))


def _healing_note(chain: Coverage) -> str | None:
    """Why this window starts earlier than the last export's end: an export of a later window failed."""
    if not chain.failed_after_end or chain.end is None:
        return None
    start, stop = chain.failed_after_end[0]
    return (
        f"The export of {iso(start)}–{iso(stop)} failed, so this run exports again from {iso(chain.end)}: "
        "the chain has no gap."
    )
