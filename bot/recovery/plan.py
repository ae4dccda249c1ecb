"""A prepared repair as a restore request's plan: bound by the digest of every action (each key's expected state and
what is written) and by the exports they came from, with the dry run's figures and a sample of each for approvers.

The approval workflow (bot/restores/workflow.py) asks this planner for RECOVER and REVERT requests, so approvals,
expiry, audit, the runner's claims and the outcome check are those of every restore.
"""

from __future__ import annotations

from bot.aws.accounts import Place
from bot.core import Core
from bot.errors import NotFound, PreconditionFailed
from bot.models import ExportType
from bot.recovery.actions import Outcome, actions_digest
from bot.recovery.costs import repair_estimate
from bot.recovery.models import Kind, Preparation
from bot.recovery.store import RecoveryStore
from bot.restores.models import RestoreMode, RestorePlan, SourceSummary
from bot.restores.plans import PlannedRestore, RestoreSpec
from bot.restores.rate import WriteCeiling
from bot.restores.repairs import RepairOptions
from bot.timefmt import iso
from bot.words import plural

SAMPLES = 5  # keys shown per verdict
MODE_OF = {Kind.RECOVER: RestoreMode.RECOVER, Kind.REVERT: RestoreMode.REVERT}
CANNOT_UNDO = (
    "A revert cannot undo: changes to items the window did not touch; what stream consumers (Lambda triggers, "
    "replicas, caches) already did with the bad writes; and, with where=, items a change moved out of the filter "
    "(DynamoDB's filtered incremental export leaves them out entirely)."
)


def repair_spec(preparation: Preparation) -> RestoreSpec:
    """The request a finished preparation becomes."""
    return RestoreSpec(MODE_OF[preparation.kind], (preparation.id,), preparation.table)


def plan_repair(core: Core, store: RecoveryStore, spec: RestoreSpec) -> PlannedRestore:
    """The plan of a prepared repair; refuses one that is not ready or has nothing to write."""
    preparation = store.get(spec.sources[0]) if spec.sources else None
    if preparation is None:
        raise NotFound(f"There is no prepared recovery `{spec.sources[0] if spec.sources else ''}`.")
    if MODE_OF.get(preparation.kind) != spec.mode:
        raise PreconditionFailed(f"Recovery `{preparation.id}` is a {preparation.kind}, not a {spec.mode}.")
    actions = store.actions(preparation.id)
    counts = preparation.counts
    if counts.puts + counts.deletes == 0:
        raise PreconditionFailed(
            f"Nothing to write: the dry run found {plural(counts.unchanged, 'key')} already as they should be, "
            f"{counts.conflicts} changed since (left alone) and {counts.uncheckable} that cannot be written safely. "
            "No request was made.",
        )
    ceiling = WriteCeiling.from_dict(preparation.rate) if preparation.rate else None
    options = RepairOptions(
        preparation=preparation.id,
        key_schema=preparation.schema.as_dict(),
        exports=tuple(export.arn for export in preparation.exports),
        actions_digest=actions_digest(actions),
        actions=len(actions),
        puts=sum(1 for a in actions if not a.deletes),
        deletes=sum(1 for a in actions if a.deletes),
        item_key=preparation.key.text if preparation.key else None,
        at=preparation.as_of or preparation.at,
        since=preparation.since,
        until=preparation.until,
        where=preparation.where,
        ceiling=ceiling,
    )
    plan = RestorePlan(
        spec.mode, options.exports, preparation.table_name, preparation.account_alias, preparation.region, options
    )
    rates = core.rates(Place(preparation.account_alias, preparation.region))
    estimate = repair_estimate(rates, actions, preparation.exports, ceiling)
    return PlannedRestore(plan, _sources(preparation), estimate, tuple(_notes(store, preparation)))


def _sources(preparation: Preparation) -> tuple[SourceSummary, ...]:
    summaries = []
    for export in preparation.exports:
        incremental = export.export_type == ExportType.INCREMENTAL
        moment = export.window_to if incremental else export.export_time
        label = f"{preparation.table} " + (
            f"changes {iso(export.window_from)} to {iso(export.window_to)}" if incremental else f"as of {iso(moment)}"
        )
        summaries.append(
            SourceSummary(
                label=label,
                table=preparation.table,
                export_id=export.export_id,
                export_type=ExportType.INCREMENTAL if incremental else ExportType.FULL,
                export_time=moment,
                item_count=export.item_count,
                size_bytes=export.billed_bytes,
            )
        )
    return tuple(summaries)


def _notes(store: RecoveryStore, preparation: Preparation) -> list[str]:
    """The dry run's figures and a sample of keys for each verdict (keys and attribute names only)."""
    counts = preparation.counts
    notes = [
        f"Dry run: {counts.puts:,} to put back, {counts.deletes:,} to delete, {plural(counts.conflicts, 'conflict')} "
        f"(changed since: left alone), {counts.unchanged:,} unchanged (already as they should be)"
        + (
            f", {counts.uncheckable:,} that no exact condition can protect (listed, never written)"
            if counts.uncheckable
            else ""
        )
        + ". Each write is conditional: a key changed after this dry run becomes a conflict, not an overwrite."
    ]
    for title, outcome, deletes in (
        ("to put back", Outcome.WRITE, False),
        ("to delete", Outcome.WRITE, True),
        ("conflicts", Outcome.CONFLICT, None),
        ("unchanged", Outcome.UNCHANGED, None),
        ("cannot be protected", Outcome.UNCHECKABLE, None),
    ):
        sample = store.verdicts(preparation.id, [outcome], dry=True, deletes=deletes, limit=SAMPLES)
        if sample:
            keys = "; ".join(key for key, _, _ in sample)
            notes.append(f"Sample ({title}): {keys}")
    if preparation.kind == Kind.REVERT:
        notes.append(CANNOT_UNDO)
    return notes
