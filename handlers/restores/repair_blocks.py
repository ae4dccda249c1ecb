"""The part of a restore's report that is a repair's (/ddb-recover, /ddb-revert): what was written, what was already
right, and each key left alone. Keys and attribute names only; item values never appear here."""

from __future__ import annotations

from bot.restores.notify import RestoreOutcome
from handlers.kit.blocks import code, escape, listing


def repair_figures(outcome: RestoreOutcome) -> str:
    """A repair's report: what was written, what was already right, and each key left alone (keys and attribute
    names only; never values)."""
    details = outcome.details
    counts = {name: details.get(name) if isinstance(details.get(name), int) else 0 for name in _REPAIR_COUNTS}
    text = (
        f"Put back: *{outcome.items_written or 0:,}* · Deleted: *{outcome.deletes_applied or 0:,}* · Already as they "
        f"should be: *{counts['unchanged']:,}* · Conflicts (changed since, left alone): *{counts['conflicts']:,}*"
    )
    if counts["uncheckable"] or counts["refused"]:
        text += (
            f" · No exact condition possible (not written): *{counts['uncheckable']:,}* · Refused by DynamoDB: "
            f"*{counts['refused']:,}*"
        )
    left = details.get("left_alone")
    entries = [entry for entry in left if isinstance(entry, dict)] if isinstance(left, list) else []
    rows = [
        f"• {code(e.get('key', '?'), 300)} {escape(e.get('outcome', ''), 20)}: {escape(e.get('note', ''), 300)}"
        for e in entries
    ]
    if rows:
        text += "\n*Left alone:*\n" + listing(rows, "keys", 1500)
    return text


_REPAIR_COUNTS = ("unchanged", "conflicts", "uncheckable", "refused")
