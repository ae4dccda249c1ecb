"""A preparation's exports read into repair actions, one per key, with a dry run's verdict on each.

`/ddb-item` and `/ddb-recover`: each key of the item or partition, its state then (the filtered export, or the bot's
exports replayed up to `as_of`) beside its live state now; the repair expects the live state and goes back to then.
`/ddb-revert`: each key the window changed, from its incremental exports merged (each key's earliest OldImage, latest
NewImage); the repair expects what the window left and goes back to what was there before it. A key the window left
as it found it (created and deleted in it, or changed back) needs nothing and is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.errors import PreconditionFailed
from bot.exports.files import read_manifest
from bot.recovery.actions import Outcome, RepairAction, decide
from bot.recovery.conditions import NoExactCondition, expect
from bot.recovery.diff import same_item
from bot.recovery.exporting import RecoveryExport
from bot.recovery.keys import ItemKey, KeySchema
from bot.recovery.models import Counts, Preparation
from bot.recovery.records import Change, ExportRecords, merge_changes, replay_items

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_REPAIR_KEYS = 200_000  # keys one repair holds in memory and in the store; wider windows are refused, not cut
Verdicts = list[tuple[RepairAction, Outcome]]


def items_then(s3: S3Client, preparation: Preparation) -> list[dict[str, Any]]:
    """The key's items at the preparation's time: the filtered export's, or the known chain replayed."""
    assert preparation.key is not None
    records = ExportRecords(s3, preparation.schema, preparation.key)
    manifests = [read_manifest(s3, export.location) for export in preparation.exports]
    if len(manifests) == 1:
        return list(records.items(manifests[0]))
    base, *later = manifests
    return replay_items(records.items(base), (records.changes(m) for m in later), preparation.schema)


def key_actions(
    schema: KeySchema, key: ItemKey, then: Sequence[dict[str, Any]], now: Sequence[dict[str, Any]]
) -> list[RepairAction]:
    """One action per key of the item or partition that exists then or now: expect now, go back to then."""
    then_by = {schema.identity(item): item for item in then if key.matches(item)}
    now_by = {schema.identity(item): item for item in now if key.matches(item)}
    order = list(then_by) + [identity for identity in now_by if identity not in then_by]
    return [_action(n, schema, now_by.get(i), then_by.get(i)) for n, i in enumerate(order)]


def window_actions(s3: S3Client, preparation: Preparation) -> list[RepairAction]:
    """One action per key the window changed: expect its state at the window's end, go back to the one before."""
    records = ExportRecords(s3, preparation.schema)
    manifests = [read_manifest(s3, export.location) for export in _oldest_first(preparation.exports)]
    merged = merge_changes((records.changes(m) for m in manifests), preparation.schema)
    changed = [change for change in merged if not same_item(change.old, change.new)]
    if len(changed) > MAX_REPAIR_KEYS:
        raise PreconditionFailed(
            f"The window changed {len(changed):,} items; one revert handles at most {MAX_REPAIR_KEYS:,}.",
            "Narrow it: a shorter window, or `where=` to the items the bad change touched.",
        )
    return [_change_action(n, preparation.schema, change) for n, change in enumerate(changed)]


def judged_locally(actions: Sequence[RepairAction], schema: KeySchema) -> Verdicts:
    """A dry run when the live states were just read (they are the actions' expectations): already as then →
    UNCHANGED, otherwise WRITE, or UNCHECKABLE when no exact condition can be stated."""
    return [(action, _verdict(decide(action.expected, action), action, schema)) for action in actions]


def counts(verdicts: Iterable[tuple[RepairAction, Outcome]]) -> Counts:
    """The dry run's figures."""
    tally: dict[str, int] = {"puts": 0, "deletes": 0, "conflicts": 0, "unchanged": 0, "uncheckable": 0}
    names: dict[Outcome, Callable[[RepairAction], str]] = {
        Outcome.WRITE: lambda action: "deletes" if action.deletes else "puts",
        Outcome.CONFLICT: lambda _action: "conflicts",
        Outcome.UNCHANGED: lambda _action: "unchanged",
        Outcome.UNCHECKABLE: lambda _action: "uncheckable",
    }
    for action, outcome in verdicts:
        tally[names[outcome](action)] += 1
    return Counts(**tally)


def _verdict(outcome: Outcome, action: RepairAction, schema: KeySchema) -> Outcome:
    if outcome != Outcome.WRITE:
        return outcome
    try:
        expect(action.expected, schema)
    except NoExactCondition:
        return Outcome.UNCHECKABLE
    return outcome


def _action(n: int, schema: KeySchema, now: dict[str, Any] | None, then: dict[str, Any] | None) -> RepairAction:
    shown = then if then is not None else now
    assert shown is not None
    return RepairAction(n, schema.key_of(shown), schema.key_text(shown), expected=now, target=then)


def _change_action(n: int, schema: KeySchema, change: Change) -> RepairAction:
    key = schema.key_of(change.keys)
    return RepairAction(n, key, schema.key_text(key), expected=change.new, target=change.old)


def _oldest_first(exports: Sequence[RecoveryExport]) -> list[RecoveryExport]:
    return sorted(exports, key=lambda export: export.window_from or export.export_time or _EPOCH)
