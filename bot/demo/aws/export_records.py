"""What an export holds, computed from the history: a full export's items at its time, an incremental export's
changed items over its window, both through the request's FilterSpecification.

Incremental records follow the AWS guide: each item written in [ExportFromTime, ExportToTime) appears once with its
final state: `Keys`, `NewImage` (absent when deleted), `OldImage` (its state right before the window; absent when it
did not exist; only under NEW_AND_OLD_IMAGES) and `Metadata.WriteTimestampMicros` (its last write in the window).
NOT CONFIRMED, chosen here: an item created and deleted inside the window is exported as a record with `Keys` only
(applying it deletes a key that is absent, which is harmless). With a filter, the item is judged on its new image,
or on its old image when deleted (the guide's rule); one with neither image is judged on its keys alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.demo.aws.export_files import json_line
from bot.demo.aws.export_filter import ExportFilter, ScratchEvaluator
from bot.demo.aws.history import Timeline, Transition
from bot.demo.aws.tables import Item, item_size

INCREMENTAL_MINIMUM_BILLED = 10_000_000  # bytes: incremental exports are billed for at least 10 MB


@dataclass(frozen=True)
class ExportContent:
    """The data lines of an export and the bytes it is billed for."""

    lines: list[bytes]
    billed_bytes: int


def full_export(timeline: Timeline, at: int, spec: ExportFilter | None, evaluator: ScratchEvaluator) -> ExportContent:
    """The table's items at `at` (writes at exactly `at` included)."""
    items = list(timeline.state_at(at).values())
    billed = sum(item_size(item) for item in items)
    if spec is not None:
        if spec.selects:
            keep = evaluator.matching(timeline.table, spec, items)
            items = [item for item in items if timeline.table.identity(timeline.table.keys_of(item)) in keep]
        items = evaluator.project(spec, items)
    return ExportContent([json_line({"Item": item}) for item in items], billed)


def incremental_export(
    timeline: Timeline,
    start: int,
    end: int,
    view: str,
    spec: ExportFilter | None,
    evaluator: ScratchEvaluator,
) -> ExportContent:
    """One record per item written in [start, end)."""
    table = timeline.table
    changes = timeline.transitions(start, end)
    changed_bytes = sum(item_size(c.new or c.old or c.keys) for c in changes)
    if spec is not None and spec.selects:
        judged = [c.new or c.old or c.keys for c in changes]
        keep = evaluator.matching(table, spec, judged)
        changes = [c for c in changes if table.identity(c.keys) in keep]
    olds = [c.old for c in changes]
    news = [c.new for c in changes]
    if spec is not None and spec.projection:
        present = [image for image in olds + news if image is not None]
        projected = iter(evaluator.project(spec, present))
        olds = [next(projected) if image is not None else None for image in olds]
        news = [next(projected) if image is not None else None for image in news]
    lines = [_record(change, old, new, view) for change, old, new in zip(changes, olds, news, strict=True)]
    return ExportContent(lines, max(INCREMENTAL_MINIMUM_BILLED, changed_bytes))


def _record(change: Transition, old: Item | None, new: Item | None, view: str) -> bytes:
    record: dict[str, object] = {
        "Metadata": {"WriteTimestampMicros": {"N": str(change.last_micros)}},
        "Keys": change.keys,
    }
    if old is not None and view == "NEW_AND_OLD_IMAGES":
        record["OldImage"] = old
    if new is not None:
        record["NewImage"] = new
    return json_line(record)
