"""Block Kit for restore drills: queued, result, and the line /ddb-status shows. Pure builders; every table name
and message from AWS or a user is escaped and shortened here."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.drills.models import DRILL_MAX_AGE, Drill, DrillStatus
from bot.drills.service import QueuedDrill
from bot.drills.tables import DRILL_TAG
from bot.timefmt import duration, iso
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


def drill_queued(queued: QueuedDrill) -> Message:
    """The answer to /ddb-drill: the plan (source, throwaway table, estimate) before anything is created."""
    drill, estimate = queued.drill, queued.estimate
    spec = drill.spec
    head = f":test_tube: Drill {code(drill.id, 40)} of {code(spec.table_key, 600)} queued."
    lines = [
        f"Restoring export {code(spec.export.export_id, 200)} ({spec.expected_items or 0:,} items) into "
        f"{code(spec.drill_table, 300)}, tagged `{DRILL_TAG}={escape(drill.id, 40)}`.",
        f"Then: key schema and GSIs, item count, {spec.sample_size:,} sampled items compared attribute for attribute.",
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
        head = f":white_check_mark: Restore drill of {table} *passed* ({code(drill.id, 40)})"
        text = f"Restore drill of {escape(spec.table_key, 600)} passed"
    else:
        head = (
            f":x: Restore drill of {table} *failed* ({code(drill.id, 40)}): "
            f"{escape(result.failure or 'unknown', FOREIGN_TEXT)}"
        )
        text = f"Restore drill of {escape(spec.table_key, 600)} failed"
    target = f" (target {duration(spec.rto_seconds)})" if spec.rto_seconds else ""
    figures = [
        f"Export {code(spec.export.export_id, 200)} → {code(spec.drill_table, 300)}",
        f"Items: {result.items_imported if result.items_imported is not None else '—'} imported of "
        f"{result.items_expected if result.items_expected is not None else '—'} in the export",
        f"Sample compared: {result.sample_compared:,} items, {result.difference_count:,} different",
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
    blocks.append(section(f":warning: {fate_text}") if result.left_behind else context(fate_text))
    return message(text, *blocks)


def last_drill_block(drill: Drill | None, now: datetime, max_age: timedelta = DRILL_MAX_AGE) -> Block:
    """The line /ddb-status <table> shows: the last drill, flagged when it failed or is older than `max_age`
    (DDBBOT_DRILL_MAX_AGE_DAYS)."""
    if drill is None:
        return context(":warning: Never drilled: prove its backups restore with `/ddb-drill &lt;table&gt;`.")
    when = drill.finished_at or drill.created_at
    if drill.status == DrillStatus.PASSED:
        stale = when is not None and now - when > max_age
        flag = ":warning:" if stale else ":white_check_mark:"
        text = (
            f"{flag} Last restore drill {code(drill.id, 40)} *passed* {iso(when)}: "
            f"{drill.result.items_imported or 0:,} items, recovered in {duration(drill.result.recovery_seconds)}"
            + (f" — *older than {max_age.days} days*, drill again." if stale else "")
        )
    elif drill.status == DrillStatus.FAILED:
        text = (
            f":x: Last restore drill {code(drill.id, 40)} *failed* {iso(when)}: "
            f"{escape(drill.result.failure or 'unknown', 600)}"
        )
    else:
        text = f":hourglass_flowing_sand: Restore drill {code(drill.id, 40)} is {escape(drill.status, 20)}."
    return section(text)
