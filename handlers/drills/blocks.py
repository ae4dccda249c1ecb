"""Block Kit for restore drills: queued, result, and the line /ddb-status shows. Pure builders; every table name
and message from AWS or a user is escaped and shortened here."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.drills.models import DRILL_MAX_AGE, Drill, DrillSpec, DrillStatus
from bot.drills.service import QueuedDrill
from bot.drills.tables import DRILL_TAG
from bot.timefmt import duration
from handlers.kit import emoji
from handlers.kit.blocks import (
    FOREIGN_TEXT,
    Block,
    Message,
    code,
    context,
    escape,
    listing,
    message,
    section,
)
from handlers.kit.text import count, plural, when


def drill_queued(queued: QueuedDrill) -> Message:
    """The answer to /ddb-drill: the plan (source, throwaway table, estimate) before anything is created."""
    drill, estimate = queued.drill, queued.estimate
    spec = drill.spec
    head = f"{emoji.DRILL} Drill {code(drill.id, 40)} of {code(spec.table_key, 600)} queued."
    lines = [
        f"Restoring {_source(spec)} into {code(spec.drill_table, 300)}, tagged `{DRILL_TAG}={escape(drill.id, 40)}`.",
        f"Then: {_checks(spec)}.",
        f"Estimated cost: *{escape(estimate.cost_usd or 'unknown', 40)}*, duration about "
        f"*{duration(estimate.duration_seconds)}*"
        + (f" (target {duration(spec.rto_seconds)})" if spec.rto_seconds else ""),
        "The drill table is kept afterwards (`keep=true`)." if spec.keep else "The drill table is deleted afterwards.",
    ]
    return message(
        f"Drill {escape(drill.id, 40)} of {escape(spec.table_key, 600)} queued",
        section(head),
        section("\n".join(lines)),
        context(escape(estimate.basis, FOREIGN_TEXT)),
    )


def drill_result(drill: Drill) -> Message:
    """Passed or failed, the figures, the first differences, recovery time against its target, the table's fate."""
    spec, result = drill.spec, drill.result
    table = code(spec.table_key, 600)
    if drill.status == DrillStatus.PASSED:
        head = f"{emoji.OK} Restore drill of {table} *passed* ({code(drill.id, 40)})"
        text = f"Restore drill of {escape(spec.table_key, 600)} passed"
    else:
        head = (
            f"{emoji.FAIL} Restore drill of {table} *failed* ({code(drill.id, 40)}): "
            f"{escape(result.failure or 'unknown', FOREIGN_TEXT)}"
        )
        text = f"Restore drill of {escape(spec.table_key, 600)} failed"
    target = f" (target {duration(spec.rto_seconds)})" if spec.rto_seconds else ""
    figures = [
        f"{_origin(spec)} → {code(spec.drill_table, 300)}",
        *_counted(drill),
        f"Recovery time: *{duration(result.recovery_seconds)}*{target}",
    ]
    blocks: list[Block] = [section(head), section("\n".join(figures))]
    if result.differences:
        lines = [f"• {escape(d, 600)}" for d in result.differences]
        blocks.append(section("*First differences*\n" + listing(lines, "differences")))
    fates = {
        "kept": "Drill table kept (keep=true)",
        "deleted": "Drill table deleted",
        "left": "Drill table NOT deleted",
    }
    fate = "kept" if result.kept else "deleted" if result.deleted else "left" if result.left_behind else ""
    lines = [fates.get(fate, "No drill table was left behind"), *result.notes]
    fate_text = escape(" ".join(f"{line[:1].upper()}{line[1:]}." for line in lines), FOREIGN_TEXT)
    # a table left behind costs money until someone deletes it: said in full text, not in the small print
    blocks.append(section(f"{emoji.WARN} {fate_text}") if result.left_behind else context(fate_text))
    return message(text, *blocks)


def _source(spec: DrillSpec) -> str:
    """What the queued drill restores: the export and its items, or the table as of its moment."""
    if spec.pitr_at is None and spec.export is not None:
        return f"export {code(spec.export.export_id, 200)} ({plural(spec.expected_items or 0, 'item')})"
    return f"{code(spec.table_key, 600)} as of {_moment(spec)} (point-in-time recovery)"


def _checks(spec: DrillSpec) -> str:
    """What the drill will prove, and against what."""
    sample = f"{plural(spec.sample_size, 'sampled item')} compared attribute for attribute"
    if spec.pitr_at is None:
        return f"key schema and GSIs, item count, {sample}"
    if spec.export is None:
        return (
            "key schema, attribute definitions and indexes; items counted, with no export of that moment to compare "
            "them with"
        )
    return (
        f"key schema, attribute definitions and indexes; item count and {sample}, against export "
        f"{code(spec.export.export_id, 200)} of that moment"
    )


def _origin(spec: DrillSpec) -> str:
    if spec.pitr_at is None and spec.export is not None:
        return f"Export {code(spec.export.export_id, 200)}"
    return f"PITR at {_moment(spec)}"


def _moment(spec: DrillSpec) -> str:
    picked = f" (picked at random within the last {duration(spec.random_seconds)})" if spec.random_seconds else ""
    return f"{when(spec.pitr_at)}{picked}"


def _counted(drill: Drill) -> list[str]:
    """The items and the sample, and what they were compared with."""
    spec, result = drill.spec, drill.result
    sample = f"Sample compared: {plural(result.sample_compared, 'item')}, {count(result.difference_count)} different"
    if spec.pitr_at is None:
        return [
            f"Items: {count(result.items_imported)} imported of {count(result.items_expected)} in the export",
            sample,
        ]
    if spec.export is None:
        return [
            f"Items: {count(result.items_imported)} counted in the drill table; no export of that moment to compare "
            "them with",
            "Sample compared: none (no export of that moment)",
        ]
    return [
        f"Items: {count(result.items_imported)} counted in the drill table of {count(result.items_expected)} in "
        f"export {code(spec.export.export_id, 200)} of that moment",
        sample,
    ]


def last_drill_block(drill: Drill | None, table: str, now: datetime, max_age: timedelta = DRILL_MAX_AGE) -> Block:
    """The line /ddb-status <table> and /ddb-pitr <table> show: the last drill of `table`, flagged when it failed
    or is older than `max_age` (the bot's drill age limit)."""
    if drill is None:
        return context(f"{emoji.WARN} Never drilled: prove its backups restore with `/ddb-drill {escape(table, 600)}`.")
    moment = drill.finished_at or drill.created_at
    if drill.status == DrillStatus.PASSED:
        stale = moment is not None and now - moment > max_age
        text = (
            f"{emoji.WARN if stale else emoji.OK} Last restore drill {code(drill.id, 40)} *passed* {when(moment)}: "
            f"{plural(drill.result.items_imported or 0, 'item')}, recovered in "
            f"{duration(drill.result.recovery_seconds)}"
            + (f" — *older than {plural(max_age.days, 'day')}*, drill again." if stale else "")
        )
    elif drill.status == DrillStatus.FAILED:
        text = (
            f"{emoji.FAIL} Last restore drill {code(drill.id, 40)} *failed* {when(moment)}: "
            f"{escape(drill.result.failure or 'unknown', 600)}"
        )
    else:
        text = f"{emoji.RUNNING} Restore drill {code(drill.id, 40)} is {escape(drill.status, 20)}."
    return section(text)
