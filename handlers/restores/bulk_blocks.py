"""Block Kit for what bulk put and cancelling add to a restore's messages: the bulk operation's figures and its
failed-items report (key attributes and reasons only, never item values), the cancelled note (with the offer to
delete a table AWS could not stop making), and the answer to `/ddb-restore cancel`.

Pure functions over what the use cases stored; every AWS- or user-supplied text is escaped here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.restores.executors import CREATED_TABLE
from bot.restores.models import RestoreMode, RestoreRequest
from bot.restores.notify import RestoreOutcome
from handlers.kit import emoji
from handlers.kit.blocks import (
    FOREIGN_TEXT,
    SECTION_TEXT,
    Block,
    Message,
    button,
    code,
    confirm_dialog,
    escape,
    listing,
    message,
    section,
)
from handlers.kit.text import users

DELETE_TABLE_ACTION = "restore_delete_table"


def bulk_blocks(outcome: RestoreOutcome | None) -> list[Block]:
    """The bulk put operation's figures and its failed-items report, when the restore used bulk put."""
    bulk = outcome.details.get("bulk") if outcome is not None else None
    if not isinstance(bulk, Mapping) or "status" not in bulk:
        return []
    figures = (
        f"*Bulk put:* {escape(str(bulk.get('status')), 40)} · processed *{_n(bulk.get('processed'))}* · "
        f"rejected *{_n(bulk.get('failed'))}* · condition false *{_n(bulk.get('conditions'))}* · "
        f"written *{_n(bulk.get('written'))}*"
    )
    if bulk.get("failure"):
        figures += f"\nDynamoDB said: {escape(str(bulk['failure']), FOREIGN_TEXT)}"
    blocks = [section(figures)]
    report = bulk.get("report")
    if isinstance(report, Mapping):
        blocks.append(section(_report_text(report)))
    return blocks


def _report_text(report: Mapping[str, Any]) -> str:
    where = code(str(report.get("location") or ""), 600)
    if report.get("unreadable"):
        return f"*Failed-items report:* {where} could not be read: {escape(str(report['unreadable']), FOREIGN_TEXT)}"
    errors, conditions = report.get("errors") or 0, report.get("conditions") or 0
    bound = "at least " if report.get("at_least") else ""
    if not errors and not conditions:
        return f"*Failed-items report:* {where}: no item failed."
    head = (
        f"*Failed-items report:* {where}: {bound}{errors:,} rejected, {bound}{conditions:,} whose condition was false. "
        "First ones (keys only):"
    )
    rows = [
        f"• {escape(str(item.get('keys')), 600)} — {escape(str(item.get('reason')), 300)}"
        for item in report.get("first") or []
        if isinstance(item, Mapping)
    ]
    return head + "\n" + listing(rows, "items", SECTION_TEXT - len(head) - 1)


def cancelled_note(request: RestoreRequest, outcome: RestoreOutcome | None) -> Message:
    """The thread's report of a cancelled restore: who cancelled, what was written by then, how to ask again, and
    for ImportTable or PITR the table left behind with a button to delete it."""
    who = users(request.cancel_requested_by or request.decided_by or "")
    where = f"Restore {code(request.id, 100)} into {code(request.target_display, 600)}"
    check = outcome.check if outcome is not None else None
    if outcome is None:
        head = f"{emoji.CANCELLED} {where} was *cancelled* by {who} before it wrote anything."
    else:
        figures = f": {escape(check.figures, 300)} by then" if check is not None else ""
        head = f"{emoji.CANCELLED} {where} was *cancelled* by {who}{figures}. Items already written stay in the table."
    blocks: list[Block] = [section(head), *bulk_blocks(outcome)]
    created = outcome.details.get(CREATED_TABLE) if outcome is not None else None
    if request.mode in {RestoreMode.IMPORT, RestoreMode.PITR} and isinstance(created, Mapping):
        text = (
            f"AWS could not stop it: table {code(request.target_display, 600)} was created and holds what it "
            "restored. Delete it if it should not stay (only that table, checked by its ARN and id first)."
        )
        delete = button(
            "Delete the new table",
            DELETE_TABLE_ACTION,
            request.id,
            style="danger",
            confirm=confirm_dialog(
                "Delete the new table?",
                f"Delete {code(request.target_display, 200)}, created by this cancelled restore?",
                "Delete",
                "Keep it",
            ),
        )
        blocks += [section(text), {"type": "actions", "block_id": f"restore_delete_{request.id}", "elements": [delete]}]
    elif request.mode == RestoreMode.LOAD and outcome is not None:
        blocks.append(
            section(
                f"`/ddb-restore retry {escape(request.id, 100)}` asks for it again (approved again); the loader "
                "continues after the data files already written."
            )
        )
    text = f"Restore {escape(request.id, 100)} into {escape(request.target_display, 600)} was cancelled"
    return message(text, *blocks)


def cancel_reply(request: RestoreRequest, text: str) -> Message:
    """The answer to `/ddb-restore cancel`: what happened, or what happens next."""
    shown = f"{emoji.CANCELLED} {escape(text, FOREIGN_TEXT)}"
    return message(f"Restore {escape(request.id, 100)}: cancel", section(shown))


def _n(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "unknown"
