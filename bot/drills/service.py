"""`/ddb-drill`'s use cases: choose the export (the table's latest completed full export, or the one named), plan
the throwaway table, refuse past DDBBOT_MAX_DRILLS, queue; and a table's last drills."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.aws.accounts import Place
from bot.aws.tables import TableRef
from bot.core import Core
from bot.drills.models import Drill, DrillSpec, new_drill_id
from bot.drills.store import DrillStore
from bot.drills.tables import drill_table_name
from bot.errors import PreconditionFailed
from bot.exports.status import export_detail
from bot.models import ExportJob, ExportStatus, ExportType, Requester
from bot.restores.estimates import import_estimate
from bot.restores.models import Estimate
from bot.restores.sources import from_job
from bot.verification.service import export_target, require_verifiable
from bot.words import plural


@dataclass(frozen=True)
class Drills:
    """What the Slack surface needs to queue drills."""

    core: Core
    store: DrillStore
    sample_size: int = 1000
    max_drills: int = 2
    wake: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class DrillRequest:
    """A parsed `/ddb-drill`."""

    table: str
    export: str | None = None
    rto_seconds: float | None = None
    keep: bool = False
    drill_id: str | None = None  # a schedule's fire names its drill, so the fire queues it once however often it runs


@dataclass(frozen=True)
class QueuedDrill:
    """The drill as queued, and what it is expected to cost and take."""

    drill: Drill
    estimate: Estimate


def queue_drill(drills: Drills, request: DrillRequest, requester: Requester) -> QueuedDrill:
    """Plan and queue a drill from an export; refused when DDBBOT_MAX_DRILLS are queued or running."""
    core = drills.core
    ref, place = core.table(request.table)
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
    queued = drills.store.create(
        Drill(request.drill_id or new_drill_id(), spec, requester.user_id, requester.channel_id), drills.max_drills
    )
    if queued is None:
        raise PreconditionFailed(
            f"{plural(drills.max_drills, 'drill')} already queued or running, as many as the bot runs at once. "
            "Nothing was started.",
            "Try again when one has finished.",
        )
    drills.wake()
    return QueuedDrill(queued, import_estimate(core.rates(place), job.billed_size_bytes))


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
