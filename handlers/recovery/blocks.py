"""Block Kit for recoveries: what was started, the private answer with item contents, the approval thread's offer to
show them, and what the requester is told. Pure functions; every user- or AWS-supplied text is escaped here.

Item values appear only in `items_message`, which goes to the requester (a direct message) or, ephemerally, to an
approver who asks; every other message carries keys, counts and attribute names alone.
"""

from __future__ import annotations

import msgspec

from bot.recovery.asks import Started
from bot.recovery.diff import ItemChange
from bot.recovery.models import Kind, Preparation
from bot.recovery.views import ItemRow, ItemView
from bot.restores.models import RestoreRequest
from bot.timefmt import iso
from handlers.kit import emoji
from handlers.kit.blocks import (
    FOREIGN_TEXT,
    SECTION_TEXT,
    Block,
    Message,
    button,
    code,
    confirm_dialog,
    context,
    escape,
    listing,
    message,
    section,
)
from handlers.kit.text import plural

RESTORE_VERSION_ACTION = "recovery_restore_version"
SHOW_ITEMS_ACTION = "recovery_show_items"
ITEM_JSON = 1200  # each state's share of a row's section
WHAT = {Kind.ITEM: "Lookup", Kind.RECOVER: "Recovery", Kind.REVERT: "Revert"}


def started_reply(started: Started) -> Message:
    """The command's answer: what was started, what it will take and cost, and where the result will come."""
    preparation = started.preparation
    where = {
        Kind.ITEM: "I will send you the answer directly: item contents are shown to you alone.",
        Kind.RECOVER: "Once the state is read, the request is posted for approval; you will get a direct message.",
        Kind.REVERT: "Once the dry run is done, the request is posted for approval; you will get a direct message.",
    }[preparation.kind]
    head = (
        f"{emoji.VERIFY} {WHAT[preparation.kind]} {code(preparation.id, 40)} of {code(preparation.table, 600)} started."
    )
    lines = [f"• {escape(line, FOREIGN_TEXT)}" for line in started.lines]
    return message(
        f"{WHAT[preparation.kind]} {escape(preparation.id, 40)} started",
        section(head + "\n" + listing(lines, "notes", SECTION_TEXT - len(head) - 1)),
        context(escape(where, FOREIGN_TEXT)),
    )


def items_message(view: ItemView, *, offer_restore: bool) -> Message:
    """The items then and now, with their values: for the requester (with Restore this version) or an approver."""
    preparation = view.preparation
    moment = preparation.as_of or preparation.at
    when = f"as of {iso(moment)}" if moment else f"from {iso(preparation.since)} to {iso(preparation.until)}"
    head = (
        f"{emoji.APPROVAL} *{escape(preparation.table, 600)}* {escape(when)} · {code(preparation.id, 40)} · "
        "private to you"
    )
    if preparation.as_of and preparation.at and preparation.as_of != preparation.at:
        head += (
            f"\n_The exports the bot has reach {iso(preparation.as_of)}, the latest moment at or before "
            f"{iso(preparation.at)}._"
        )
    if not view.rows:
        head += "\nNo item with that key existed then, and none exists now."
    blocks: list[Block] = [section(head)]
    blocks += [section(_row_text(row, view.then_label)) for row in view.rows]
    if view.more:
        blocks.append(context(f"… and {plural(view.more, 'more key')} not shown."))
    if offer_restore and view.restorable:
        confirm = confirm_dialog(
            "Restore this version?",
            "A request to put these items back is prepared and posted for a second person to approve. Nothing is "
            "written before that, and a later change is never overwritten.",
            "Prepare request",
            "Cancel",
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": f"recovery_{preparation.id}",
                "elements": [button("Restore this version", RESTORE_VERSION_ACTION, preparation.id, confirm=confirm)],
            }
        )
    return message(f"{escape(preparation.table, 600)} {escape(when)} (private)", *blocks)


def _row_text(row: ItemRow, then_label: str) -> str:
    summary = escape(_change_text(row.change), FOREIGN_TEXT)
    then = _json(row.then)
    now = _json(row.now)
    return f"*{escape(row.key_text, 600)}* — {summary}\n{then_label}: ```{then}```\nnow: ```{now}```"


def _change_text(change: ItemChange) -> str:
    if change.none:
        return "the same then and now"
    if change.created:
        return "created since"
    if change.deleted:
        return "deleted since"
    parts = []
    for label, names in (("changed", change.changed), ("added", change.added), ("removed", change.removed)):
        if names:
            parts.append(f"{label}: {', '.join(names)}")
    return "; ".join(parts)


def _json(item: dict[str, object] | None) -> str:
    if item is None:
        return "(absent)"
    text = msgspec.json.encode(item, order="sorted").decode().replace("`", "'")
    return escape(text, ITEM_JSON)


def approval_thread(preparation: Preparation, request: RestoreRequest) -> Message:
    """Under the approval message: keys and counts are above; values only on request, for approvers."""
    counts = preparation.counts
    text = (
        f"{emoji.APPROVAL} Dry run: {counts.puts:,} to put back, {counts.deletes:,} to delete, "
        f"{plural(counts.conflicts, 'conflict')} "
        f"(changed since: left alone), {counts.unchanged:,} unchanged"
        + (f", {counts.uncheckable:,} no exact condition can protect" if counts.uncheckable else "")
        + f".\nItem contents of {code(request.id, 40)} are private: approvers (and the requester) can see each key "
        "as it is now and as it would be written with the button; only you see the answer."
    )
    return message(
        f"Items of {escape(request.id, 40)} (private)",
        section(text),
        {
            "type": "actions",
            "block_id": f"recovery_show_{preparation.id}",
            "elements": [button("Show the items (private)", SHOW_ITEMS_ACTION, preparation.id)],
        },
    )


def requested_note(preparation: Preparation, request: RestoreRequest) -> Message:
    """The requester's direct message: the request is up for approval."""
    channel = f"<#{request.approval_channel}>" if request.approval_channel else "the approval channel"
    text = (
        f"{emoji.APPROVAL} Your {WHAT[preparation.kind].lower()} {code(preparation.id, 40)} of "
        f"{code(preparation.table, 600)} "
        f"is now restore request {code(request.id, 40)}, waiting for approval in {channel} until "
        f"{iso(request.expires_at)}."
    )
    return message(text, section(text))


def preparation_failed(preparation: Preparation, reason: str) -> Message:
    """The requester's direct message: the preparation could not finish."""
    text = (
        f"{emoji.FAIL} {WHAT[preparation.kind]} {code(preparation.id, 40)} of {code(preparation.table, 600)} failed: "
        f"{escape(reason, FOREIGN_TEXT)}"
    )
    return message(text, section(text))
