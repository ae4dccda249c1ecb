"""`/ddb-drill`'s use cases: choose the export (the table's latest completed full export, or the one named) or the
point in time (`from=pitr`: the one named, the latest, or one drawn at random), plan the throwaway table, refuse past
DDBBOT_MAX_DRILLS, queue; and a table's last drills."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.aws.accounts import Place
from bot.aws.table_info import PitrWindow
from bot.aws.tables import TableRef
from bot.core import Core
from bot.drills.models import Drill, DrillSpec, new_drill_id
from bot.drills.store import DrillStore
from bot.drills.tables import drill_table_name
from bot.errors import PreconditionFailed
from bot.exports.status import export_detail
from bot.models import ExportFormat, ExportJob, ExportStatus, ExportType, Requester
from bot.restores.estimates import import_estimate, pitr_estimate
from bot.restores.models import Estimate
from bot.restores.sources import from_job
from bot.timefmt import iso
from bot.verification.service import export_target, require_verifiable
from bot.words import plural

SAME_MOMENT = timedelta(seconds=1)  # an export this close to a PITR drill's moment is of that moment


@dataclass(frozen=True)
class Drills:
    """What the Slack surface needs to queue drills."""

    core: Core
    store: DrillStore
    sample_size: int = 1000
    max_drills: int = 2
    wake: Callable[[], None] = lambda: None
    draw: Callable[[], float] = random.random  # where `random=` draws its moment (seeded in tests)


@dataclass(frozen=True)
class DrillRequest:
    """A parsed `/ddb-drill`."""

    table: str
    export: str | None = None
    rto_seconds: float | None = None
    keep: bool = False
    drill_id: str | None = None  # a schedule's fire names its drill, so the fire queues it once however often it runs
    from_pitr: bool = False  # `from=pitr`: restore a point in time instead of importing an export
    at: datetime | None = None  # `at=`: the moment (None: the latest restorable time)
    random_seconds: float | None = None  # `random=`: a moment drawn at random within this long before now


@dataclass(frozen=True)
class QueuedDrill:
    """The drill as queued, and what it is expected to cost and take."""

    drill: Drill
    estimate: Estimate


def queue_drill(drills: Drills, request: DrillRequest, requester: Requester) -> QueuedDrill:
    """Plan and queue a drill from an export or a point in time; refused when DDBBOT_MAX_DRILLS are queued or
    running, or when another drill of the table already has this minute's drill table."""
    core = drills.core
    ref, place = core.table(request.table)
    plan = _pitr_drill if request.from_pitr else _export_drill
    spec, estimate = plan(drills, ref, place, request)
    if any(d.spec.drill_table == spec.drill_table and d.id != request.drill_id for d in drills.store.history(ref.key)):
        raise PreconditionFailed(
            f"Another drill of `{ref.display}` this minute already has the drill table `{spec.drill_table}`. "
            "Nothing was started.",
            "Try again in a minute.",
        )
    drill = Drill(request.drill_id or new_drill_id(), spec, requester.user_id, requester.channel_id)
    queued = drills.store.create(drill, drills.max_drills)
    if queued is None:
        raise PreconditionFailed(
            f"{plural(drills.max_drills, 'drill')} already queued or running, as many as the bot runs at once. "
            "Nothing was started.",
            "Try again when one has finished.",
        )
    drills.wake()
    return QueuedDrill(queued, estimate)


def _export_drill(drills: Drills, ref: TableRef, place: Place, request: DrillRequest) -> tuple[DrillSpec, Estimate]:
    """A drill that imports the export named, or the table's latest completed full export."""
    core = drills.core
    job = _chosen_export(core, ref, place, request.export)
    source = from_job(job)
    require_verifiable(source)
    if not job.table_snapshot.get("KeySchema"):
        raise PreconditionFailed(
            f"Export `{job.export_id}` carries no record of its table's key schema, so the drill table cannot be "
            "created like the source. Nothing was started.",
            "Drill from an export the bot made (`/ddb-export`), which records the schema.",
        )
    spec = DrillSpec(
        table_key=ref.key,
        account_alias=place.alias,
        region=place.region,
        export=export_target(core, source, job.export_id),
        drill_table=drill_table_name(ref.name, core.clock()),
        table_snapshot=dict(job.table_snapshot),
        expected_items=job.item_count,
        rto_seconds=request.rto_seconds,
        keep=request.keep,
        sample_size=drills.sample_size,
    )
    return spec, import_estimate(core.rates(place), job.billed_size_bytes)


def _pitr_drill(drills: Drills, ref: TableRef, place: Place, request: DrillRequest) -> tuple[DrillSpec, Estimate]:
    """A drill that restores the table as of `at=` (the latest restorable time when not given, or a moment drawn at
    random within `random=`), compared with the export of that very moment when the bot made one."""
    core = drills.core
    info, window = core.describe(ref, place)
    if not window.enabled or window.earliest is None or window.latest is None:
        raise PreconditionFailed(
            f"Point-in-time recovery is off for `{ref.display}`, so there is no point in time to drill from. "
            "Nothing was started.",
            f"Turn it on with `/ddb-pitr {ref.display} enable`, or drill from an export: `/ddb-drill {ref.display}`.",
        )
    moment = request.at or window.latest
    if request.at is None and request.random_seconds is not None:
        moment = random_point(window, core.clock(), timedelta(seconds=request.random_seconds), drills.draw)
    if not window.contains(moment):
        raise PreconditionFailed(
            f"`at={iso(moment)}` is outside the PITR window of `{ref.display}` ({iso(window.earliest)} to "
            f"{iso(window.latest)}). Nothing was started.",
            "Pick a time inside that window, or leave `at=` out for the latest restorable time.",
        )
    job = _export_of_moment(core, ref, moment)
    spec = DrillSpec(
        table_key=ref.key,
        account_alias=place.alias,
        region=place.region,
        export=export_target(core, from_job(job), job.export_id) if job else None,
        drill_table=drill_table_name(ref.name, core.clock()),
        table_snapshot=dict(job.table_snapshot if job else info.snapshot),
        expected_items=job.item_count if job else None,
        rto_seconds=request.rto_seconds,
        keep=request.keep,
        sample_size=drills.sample_size,
        pitr_at=moment,
        random_seconds=request.random_seconds if request.at is None else None,
    )
    return spec, pitr_estimate(core.rates(place), info)


def random_point(window: PitrWindow, now: datetime, within: timedelta, draw: Callable[[], float]) -> datetime:
    """A moment drawn uniformly (`draw()` in [0, 1)) from the last `within` before `now`, clipped to the PITR
    window, as AWS Backup's restore testing picks "a random point within the last N days"; the latest restorable
    time when the two do not meet (`within` shorter than PITR's lag)."""
    if window.earliest is None or window.latest is None:
        raise ValueError("a PITR window has both ends")
    start, end = max(now - within, window.earliest), window.latest
    if start >= end:
        return end
    return min(end, start + (end - start) * draw())


def _export_of_moment(core: Core, ref: TableRef, moment: datetime) -> ExportJob | None:
    """The bot's completed full export of the table taken at `moment` (to the second), which a PITR drill of that
    moment can be compared with item for item; None when there is none the drill could read."""
    for job in core.store.recent_exports(ref.key, limit=50):
        if job.status != ExportStatus.COMPLETED or job.export_type != ExportType.FULL or job.export_time is None:
            continue
        if abs(job.export_time - moment) >= SAME_MOMENT or not job.table_snapshot.get("KeySchema"):
            continue
        if job.export_format == ExportFormat.DYNAMODB_JSON:
            return job
    return None


def _chosen_export(core: Core, ref: TableRef, place: Place, export: str | None) -> ExportJob:
    table_key = ref.key
    if export is not None:
        job = export_detail(core, export)
        if job.table_key != table_key:
            raise PreconditionFailed(
                f"Export `{job.export_id}` is of `{job.table_key}`, not `{table_key}`. Nothing was started."
            )
        if job.export_type != ExportType.FULL:
            raise PreconditionFailed(
                f"Export `{job.export_id}` is incremental; a drill imports a full export. Nothing was started."
            )
        return job
    for job in core.store.recent_exports(table_key, limit=50):
        if job.status == ExportStatus.COMPLETED and job.export_type == ExportType.FULL:
            return job
    core.table_info(ref, place)  # a mistyped table is said to be one, with the nearest real name
    raise PreconditionFailed(
        f"The bot knows no completed full export of `{table_key}` to drill with. Nothing was started.",
        f"Export it first with `/ddb-export {table_key}`, or name one with `export=<id>`.",
    )


def last_drill(drills: Drills, table_key: str) -> Drill | None:
    """The table's newest drill."""
    found = drills.store.history(table_key, limit=1)
    return found[0] if found else None


def last_drills(drills: Drills) -> dict[str, Drill]:
    """Every table's newest drill, by table key (one query, for a survey of every table)."""
    return drills.store.newest_by_table()
