"""Block Kit for restores: the approval message in its states, thread replies, the export list and the form.

Pure functions (data in, dict out); every user- or AWS-supplied text is escaped here.
"""

from __future__ import annotations

from typing import Any

from bot.errors import BotError
from bot.models import BOT_ACTOR, ExportType
from bot.restores.models import (
    MODE_NAMES,
    Approval,
    ImportOptions,
    PitrOptions,
    RestoreMode,
    RestoreRequest,
    RestoreStatus,
    SourceSummary,
)
from bot.restores.notify import RestoreOutcome, RestoreProgress
from bot.restores.workflow import Requested
from bot.timefmt import duration, iso, size
from handlers.blocks import Message, code, context, escape, message, section

APPROVE_ACTION = "restore_approve"
REJECT_ACTION = "restore_reject"
STATE_LINE = {
    RestoreStatus.APPROVED: ":white_check_mark: *Approved*",
    RestoreStatus.RUNNING: ":arrows_counterclockwise: *Approved — running*",
    RestoreStatus.SUCCEEDED: ":white_check_mark: *Approved — restore finished*",
    RestoreStatus.FAILED: ":x: *Restore failed*",
    RestoreStatus.REJECTED: ":no_entry: *Rejected — nothing was restored*",
    RestoreStatus.EXPIRED: ":hourglass: *Expired — nothing was restored*",
}


# --------------------------------------------------------------------------------------- approval message


def approval_request(request: RestoreRequest, approvals: list[Approval] | None = None) -> Message:
    """The message approvers see: what would run, its estimate, and Approve / Reject bound to the plan hash."""
    approvals = approvals or []
    head = (
        f":lock: *Restore request {code(request.id)}* from {_mention(request.requested_by)} needs "
        f"{request.required_approvals} approval(s)"
    )
    blocks = [section(head), *_body(request)]
    if approvals:
        blocks.append(
            context(f"Approved so far by {_approvers(approvals)} ({len(approvals)} of {request.required_approvals})")
        )
    blocks.append(
        {
            "type": "actions",
            "block_id": f"restore_decision_{request.id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": APPROVE_ACTION,
                    "text": {"type": "plain_text", "text": "Approve"},
                    "style": "primary",
                    "value": request.button_value,
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Approve this restore?"},
                        "text": {
                            "type": "mrkdwn",
                            "text": f"{escape(_mode_line(request))} → {code(request.target_display)}",
                        },
                        "confirm": {"type": "plain_text", "text": "Approve"},
                        "deny": {"type": "plain_text", "text": "Cancel"},
                    },
                },
                {
                    "type": "button",
                    "action_id": REJECT_ACTION,
                    "text": {"type": "plain_text", "text": "Reject"},
                    "style": "danger",
                    "value": request.button_value,
                },
            ],
        }
    )
    text = f"Restore request {request.id} from {request.requested_by} needs approval: {_mode_line(request)}"
    return message(text, *blocks)


def approval_settled(request: RestoreRequest, approvals: list[Approval], note: str | None = None) -> Message:
    """The same message once decided: who decided and when, no buttons left."""
    state = STATE_LINE.get(request.status, escape(request.status))
    if request.status == RestoreStatus.EXPIRED:
        who = f" at {iso(request.decided_at or request.expires_at)} (no decision within the time allowed)"
    elif request.status == RestoreStatus.REJECTED:
        who = f" by {_mention(request.decided_by or '?')} at {iso(request.decided_at)}"
    else:
        who = f" by {_approvers(approvals) or _deciders(request)} at {iso(request.decided_at)}"
    blocks = [
        section(f"*Restore request {code(request.id)}* from {_mention(request.requested_by)}"),
        *_body(request, with_expiry=False),
        section(f"{state}{who}" + (f"\n{escape(note)}" if note else "")),
    ]
    return message(f"Restore request {request.id}: {request.status}", *blocks)


def _body(request: RestoreRequest, *, with_expiry: bool = True) -> list[dict[str, Any]]:
    lines = [
        f"*Mode:* {escape(_mode_line(request))}",
        *(_source_line(s) for s in request.sources),
        f"*Target:* {code(request.target_display)} ({escape(request.plan.region)})",
    ]
    estimate = request.estimate
    if estimate is not None:
        lines.append(
            f"*Estimated cost:* {escape(estimate.cost_usd or '—')} · *Estimated duration:* "
            f"{duration(estimate.duration_seconds)}"
        )
    if with_expiry:
        lines.append(f"*Expires:* {iso(request.expires_at)}")
    blocks = [section("\n".join(lines))]
    notes = [f"Plan hash {code(request.plan_hash[:12])}"]
    if estimate is not None:
        notes.append(escape(estimate.basis))
    blocks.append(context(" · ".join(notes)))
    return blocks


def _source_line(source: SourceSummary) -> str:
    parts = []
    if source.table:
        parts.append(f"table {code(source.table)}")
    if source.export_id:
        kind = "incremental export" if source.export_type == ExportType.INCREMENTAL else "export"
        parts.append(f"{kind} {code(source.export_id)}")
    if source.export_time:
        parts.append(f"as of {iso(source.export_time)}")
    if source.item_count is not None:
        parts.append(f"{source.item_count:,} items")
    if source.size_bytes is not None:
        parts.append(size(source.size_bytes))
    return "*Source:* " + (" · ".join(parts) if parts else code(source.label))


def _mode_line(request: RestoreRequest) -> str:
    base = MODE_NAMES.get(request.mode, request.mode)
    options = request.plan.options
    if isinstance(options, ImportOptions):
        billing = "on-demand" if options.table.get("BillingMode") == "PAY_PER_REQUEST" else "provisioned"
        keys = ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in options.table.get("KeySchema", []))
        gsis = len(options.table.get("GlobalSecondaryIndexes") or [])
        basis = f" from {options.schema_basis}" if options.schema_basis else ""
        return f"{base}: key {keys}{basis}, {gsis} GSI(s), {billing}"
    if isinstance(options, PitrOptions):
        moment = iso(options.restore_time) if options.restore_time else "the latest restorable time"
        return f"{base} as of {moment}"
    return f"{base} ({len(request.plan.sources)} export(s), puts and deletes in time order)"


def decided_note(request: RestoreRequest) -> Message:
    """The thread reply when a request is decided."""
    if request.status == RestoreStatus.APPROVED:
        text = (
            f":white_check_mark: Approved by {_deciders(request)} at {iso(request.decided_at)}. Starting the restore."
        )
    elif request.status == RestoreStatus.REJECTED:
        text = f":no_entry: Rejected by {_mention(request.decided_by or '?')}. Nothing was restored."
    else:
        text = f":hourglass: Expired at {iso(request.decided_at or request.expires_at)}. Nothing was restored."
    return message(text, section(text))


def requester_notice(request: RestoreRequest, detail: str) -> Message:
    """What the requester is told directly; `detail` is mrkdwn the caller already escaped."""
    text = f"Your restore request {code(request.id)} into {code(request.target_display)}: {detail}"
    return message(text, section(text))


def started_note(request: RestoreRequest, resumed: str | None) -> Message:
    """The restore started (or resumed after a restart)."""
    text = f":arrow_forward: {escape(resumed)}" if resumed else f":arrow_forward: Restore {code(request.id)} started."
    return message(text, section(text))


def progress_note(request: RestoreRequest, progress: RestoreProgress) -> Message:
    """One progress line (edited in place as the restore goes on)."""
    parts = []
    if progress.files_total is not None:
        parts.append(f"files {progress.files_done or 0}/{progress.files_total}")
    if progress.items is not None:
        parts.append(
            f"{progress.items:,} items written" if request.mode == RestoreMode.LOAD else f"{progress.items:,} items"
        )
    if progress.deletes:
        parts.append(f"{progress.deletes:,} deletes")
    if progress.rate_per_second is not None:
        parts.append(f"{progress.rate_per_second:,.0f}/s")
    if progress.elapsed_seconds is not None:
        parts.append(f"{duration(progress.elapsed_seconds)} elapsed")
    if progress.note:
        parts.append(escape(progress.note))
    text = ":hourglass_flowing_sand: Progress: " + (" · ".join(parts) or "working")
    return message(text, section(text))


def finished_note(request: RestoreRequest, outcome: RestoreOutcome) -> Message:
    """The final report, and for new tables what DynamoDB did not carry over."""
    head = f":white_check_mark: Restore {code(request.id)} into {code(request.target_display)} *finished*."
    figures = []
    if request.mode == RestoreMode.LOAD:
        figures.append(
            f"Items written: *{outcome.items_written or 0:,}* · Deletes applied: *{outcome.deletes_applied or 0:,}* · "
            f"Files: *{outcome.files or 0}*"
            + (f" ({outcome.files_skipped} finished before a restart, not rewritten)" if outcome.files_skipped else "")
            + f" · Retries: *{outcome.retries or 0}*"
        )
    elif outcome.item_count is not None:
        figures.append(f"Items in the new table: *{outcome.item_count:,}*")
    figures.append(f"Duration: *{duration(outcome.duration_seconds)}*")
    blocks = [section(head), section("\n".join(figures))]
    if request.mode in {RestoreMode.IMPORT, RestoreMode.PITR}:
        blocks.append(section(carry_over_text(outcome)))
    return message(f"Restore {request.id} into {request.target_display} finished", *blocks)


def carry_over_text(outcome: RestoreOutcome) -> str:
    """What to set again on the new table."""
    needed = [c for c in outcome.not_carried_over if c.needed]
    fine = [c for c in outcome.not_carried_over if not c.needed]
    lines = ["*Not carried over by DynamoDB* (TTL, streams, PITR, tags, auto scaling, deletion protection):"]
    if outcome.source_unreachable:
        lines.append(f"_I could not read the source table: {escape(outcome.source_unreachable)}._")
    for item in needed:
        lines.append(
            f"• *{escape(item.setting)}* — source: {escape(item.source_state)} → set again: {code(item.action)}"
        )
    if fine:
        lines.append(
            "Nothing to set for: " + ", ".join(f"{escape(c.setting)} ({escape(c.source_state)})" for c in fine)
        )
    if not needed and not outcome.source_unreachable:
        lines.append("The source uses none of them: nothing to set again.")
    return "\n".join(lines)


def carry_over_summary(request: RestoreRequest, outcome: RestoreOutcome) -> str:
    """One line for the requester: the figures, or which settings to set again on the new table."""
    if request.mode == RestoreMode.LOAD:
        return f"{outcome.items_written or 0:,} items written, {outcome.deletes_applied or 0:,} deletes applied."
    needed = [escape(c.setting) for c in outcome.not_carried_over if c.needed]
    if needed:
        return "Set again on the new table: " + ", ".join(needed) + " (commands in the approval thread)."
    return "Nothing to set again on the new table."


def failed_note(request: RestoreRequest, reason: str) -> Message:
    """The restore failed: why, and what to do."""
    text = f":x: Restore {code(request.id)} into {code(request.target_display)} *failed*: {escape(reason)}"
    return message(text, section(text))


def requested_reply(requested: Requested) -> Message:
    """The answer to the requester: the request id and where it waits."""
    request = requested.request
    head = (
        f":lock: Restore request {code(request.id)} is waiting for {request.required_approvals} approval(s) in "
        f"<#{escape(requested.channel)}>. It expires at {iso(request.expires_at)}."
    )
    lines = [*(f"• {_source_line(s)}" for s in request.sources), f"• *Target:* {code(request.target_display)}"]
    blocks = [section(head), section("\n".join(lines))]
    for note in requested.planned.notes:
        blocks.append(context(f":information_source: {escape(note)}"))
    return message(f"Restore request {request.id} is waiting for approval", *blocks)


def click_refused(error: BotError) -> Message:
    """The ephemeral reason a click was refused."""
    text = f":no_entry_sign: {escape(error.message)}" + (f" {escape(error.fix)}" if error.fix else "")
    return message(text, section(text))


def click_accepted(text: str) -> Message:
    """The ephemeral confirmation of a click that counted."""
    return message(text, section(text))


def _mention(user: str) -> str:
    return f"<@{escape(user)}>" if user[:1] in {"U", "W"} else escape(user)


def _approvers(approvals: list[Approval]) -> str:
    return ", ".join(_mention(a.approver) for a in approvals)


def _deciders(request: RestoreRequest) -> str:
    if not request.decided_by or request.decided_by == BOT_ACTOR:
        return "the bot"
    return ", ".join(_mention(u) for u in request.decided_by.split(","))
