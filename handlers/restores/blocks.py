"""Block Kit for restores: the approval message in its states, thread replies, the export list and the form.

Pure functions (data in, dict out); every user- or AWS-supplied text is escaped here. The approval message puts
what an approver must see (target, mode, expiry, requester, plan hash) first, in its own block, so no number of
sources or length of names can push it out; the sources are summarised when they do not fit.
"""

from __future__ import annotations

from bot.errors import BotError
from bot.models import BOT_ACTOR
from bot.restores.models import MODE_NAMES, REPAIR_MODES, Approval, RestoreMode, RestoreRequest, RestoreStatus
from bot.restores.notify import RestoreOutcome, RestoreProgress
from bot.restores.outcome import OutcomeCheck, Verdict
from bot.restores.summary import mode_line, plan_summary
from bot.restores.workflow import Decision, Requested
from bot.timefmt import duration, size
from handlers.kit import emoji
from handlers.kit.blocks import (
    CONFIRM_TEXT,
    FOREIGN_TEXT,
    SECTION_TEXT,
    Block,
    Message,
    button,
    code,
    confirm_dialog,
    context,
    error_lines,
    escape,
    listing,
    message,
    section,
    shorten,
)
from handlers.kit.text import channel, count, plural, user, users, when
from handlers.restores.bulk_blocks import bulk_blocks
from handlers.restores.repair_blocks import repair_figures
from handlers.restores.summary_blocks import plan_summary_blocks, source_line

APPROVE_ACTION = "restore_approve"
REJECT_ACTION = "restore_reject"

STATE_LINE = {
    RestoreStatus.APPROVED: f"{emoji.OK} *Approved*",
    RestoreStatus.RUNNING: f"{emoji.AGAIN} *Approved — running*",
    RestoreStatus.SUCCEEDED: f"{emoji.OK} *Approved — restore finished*",
    RestoreStatus.PARTIAL: f"{emoji.WARN} *Approved — restore PARTIAL: not every item promised is in the target*",
    RestoreStatus.FAILED: f"{emoji.FAIL} *Restore failed*",
    RestoreStatus.REJECTED: f"{emoji.REFUSED} *Rejected — nothing was restored*",
    RestoreStatus.EXPIRED: f"{emoji.EXPIRED} *Expired — nothing was restored*",
    RestoreStatus.CANCELLED: f"{emoji.CANCELLED} *Cancelled — what was written before the cancel stays*",
}


# --------------------------------------------------------------------------------------- approval message


def approval_request(request: RestoreRequest, approvals: list[Approval] | None = None) -> Message:
    """The message approvers see: what would run, its estimate, and Approve / Reject bound to the plan hash."""
    approvals = approvals or []
    head = (
        f"{emoji.APPROVAL} *Restore request {code(request.id, 100)}* from {user(request.requested_by)} needs "
        f"{plural(request.required_approvals, 'approval')}"
    )
    blocks = [section(head), *plan_summary_blocks(plan_summary(request), with_expiry=True)]
    if approvals:
        blocks.append(
            context(f"Approved so far by {_approvers(approvals)} ({len(approvals)} of {request.required_approvals})")
        )
    approve = button(
        "Approve",
        APPROVE_ACTION,
        request.button_value,
        style="primary",
        confirm=confirm_dialog("Approve this restore?", _confirm_text(request), "Approve", "Cancel"),
    )
    reject = button("Reject", REJECT_ACTION, request.button_value, style="danger")
    blocks.append({"type": "actions", "block_id": f"restore_decision_{request.id}", "elements": [approve, reject]})
    text = (
        f"Restore request {escape(request.id, 100)} from {user(request.requested_by)} needs approval: "
        f"{escape(mode_line(request), FOREIGN_TEXT)} → {escape(request.target_display, 600)}"
    )
    return message(text, *blocks)


def approval_settled(request: RestoreRequest, approvals: list[Approval], note: str | None = None) -> Message:
    """The same message once decided: who decided and when, no buttons left."""
    state = STATE_LINE.get(request.status, escape(request.status, 40))
    if request.status == RestoreStatus.EXPIRED:
        who = f" at {when(request.decided_at or request.expires_at)} (no decision within the time allowed)"
    elif request.status == RestoreStatus.CANCELLED:
        who = f" by {users(request.cancel_requested_by or request.decided_by or '')} at {when(request.finished_at)}"
    elif request.status == RestoreStatus.REJECTED:
        who = f" by {_deciders(request)} at {when(request.decided_at)}"
    else:
        who = f" by {_approvers(approvals) or _deciders(request)} at {when(request.decided_at)}"
    blocks = [
        section(f"*Restore request {code(request.id, 100)}* from {user(request.requested_by)}"),
        section(f"{state}{who}" + (f"\n{escape(note, FOREIGN_TEXT)}" if note else "")),
        *plan_summary_blocks(plan_summary(request), with_expiry=False),
    ]
    return message(f"Restore request {escape(request.id, 100)}: {escape(request.status, 40)}", *blocks)


def _confirm_text(request: RestoreRequest) -> str:
    """The Approve dialog's text within Slack's 300 characters: a long target name is shortened inside it (the
    full name is in the message above)."""
    mode = escape(MODE_NAMES.get(request.mode, request.mode), 80)
    start, end = "Restore into ", f": {mode}. It starts as soon as the approvals are in."
    return f"{start}{code(request.target_display, CONFIRM_TEXT - len(start) - len(end))}{end}"


def decided_note(request: RestoreRequest) -> Message:
    """The thread reply when a request is decided."""
    if request.status == RestoreStatus.APPROVED:
        text = f"{emoji.OK} Approved by {_deciders(request)} at {when(request.decided_at)}. Starting the restore."
    elif request.status == RestoreStatus.REJECTED:
        text = f"{emoji.REFUSED} Rejected by {_deciders(request)}. Nothing was restored."
    elif request.status == RestoreStatus.CANCELLED:
        text = f"{emoji.CANCELLED} Cancelled by {_deciders(request)}. Nothing was restored."
    else:
        text = f"{emoji.EXPIRED} Expired at {when(request.decided_at or request.expires_at)}. Nothing was restored."
    return message(text, section(text))


def requester_notice(request: RestoreRequest, detail: str) -> Message:
    """What the requester is told directly; `detail` is mrkdwn the caller already escaped (shortened here)."""
    text = (
        f"Your restore request {code(request.id, 100)} into {code(request.target_display, 600)}: "
        f"{shorten(detail, FOREIGN_TEXT)}"
    )
    return message(text, section(text))


def ended_notice(request: RestoreRequest, detail: str) -> Message:
    """A request's end as the notification channel reads it; `detail` is mrkdwn the caller already escaped."""
    text = (
        f"Restore request {code(request.id, 100)} into {code(request.target_display, 600)}: "
        f"{shorten(detail, FOREIGN_TEXT)}"
    )
    return message(text, section(text))


def started_note(request: RestoreRequest, resumed: str | None) -> Message:
    """The restore started (or resumed after a restart)."""
    text = (
        f"{emoji.RESUMED} {escape(resumed, FOREIGN_TEXT)}"
        if resumed
        else f"{emoji.RESUMED} Restore {code(request.id, 100)} started."
    )
    return message(text, section(text))


def progress_note(request: RestoreRequest, progress: RestoreProgress) -> Message:
    """One progress line (edited in place as the restore goes on)."""
    parts = []
    if progress.files_total is not None:
        parts.append(f"files {count(progress.files_done or 0)}/{count(progress.files_total)}")
    if progress.items is not None:
        done = "processed" if progress.bytes_done is not None else "written"
        items = plural(progress.items, "item")
        parts.append(f"{items} {done}" if request.mode == RestoreMode.LOAD else items)
    if progress.deletes:
        parts.append(plural(progress.deletes, "delete"))
    if progress.rate_per_second is not None:
        parts.append(f"{progress.rate_per_second:,.0f} items/s")
    if progress.units_per_second is not None:
        ceiling = f" of {progress.ceiling_units:,} allowed" if progress.ceiling_units is not None else ""
        parts.append(f"{progress.units_per_second:,.0f} write units/s{ceiling}")
    if progress.throttles is not None:
        parts.append(f"{count(progress.throttles)} throttled")
    if progress.bytes_done is not None:
        of = f" of {size(progress.bytes_total)}" if progress.bytes_total is not None else ""
        parts.append(f"{size(progress.bytes_done)}{of} read")
    if progress.failed_items:
        parts.append(f"{count(progress.failed_items)} failed")
    if progress.ceiling_units is not None and progress.units_per_second is None:
        parts.append(f"ceiling {count(progress.ceiling_units)} write units/s")
    if progress.elapsed_seconds is not None:
        parts.append(f"{duration(progress.elapsed_seconds)} elapsed")
    if progress.eta_seconds is not None:
        parts.append(f"about {duration(progress.eta_seconds)} left")
    if progress.note:
        parts.append(escape(progress.note, FOREIGN_TEXT))
    text = f"{emoji.RUNNING} Progress: " + (" · ".join(parts) or "working")
    return message(text, section(text))


def finished_note(request: RestoreRequest, outcome: RestoreOutcome) -> Message:
    """The final report: the outcome check's verdict first (PARTIAL with its reasons and numbers, never "finished"),
    the figures, and for new tables what DynamoDB did not carry over."""
    check = outcome.check
    where = f"Restore {code(request.id, 100)} into {code(request.target_display, 600)}"
    if check is not None and check.partial:
        head = (
            f"{emoji.WARN} {where} is *PARTIAL*: {escape(check.figures, 300)}. Not every item the plan promised is "
            "there."
        )
    else:
        head = f"{emoji.OK} {where} *finished*."
    figures = []
    if request.mode == RestoreMode.LOAD:
        figures.append(
            f"Items written: *{outcome.items_written or 0:,}* · Deletes applied: *{outcome.deletes_applied or 0:,}* · "
            f"Files: *{count(outcome.files or 0)}*"
            + (f" ({count(outcome.files_skipped)} finished before, not rewritten)" if outcome.files_skipped else "")
            + f" · Retries: *{count(outcome.retries or 0)}*"
            + _throttled(outcome)
            + _unverified_files(outcome)
        )
    if request.mode in REPAIR_MODES:
        figures.append(repair_figures(outcome))
    figures.append(f"Duration: *{duration(outcome.duration_seconds)}*")
    blocks = [section(head), *_outcome_blocks(check), section("\n".join(figures)), *bulk_blocks(outcome)]
    if request.mode in {RestoreMode.IMPORT, RestoreMode.PITR}:
        blocks.append(section(carry_over_text(outcome)))
    ending = "is PARTIAL" if check is not None and check.partial else "finished"
    text = f"Restore {escape(request.id, 100)} into {escape(request.target_display, 600)} {ending}"
    return message(text, *blocks)


def _outcome_blocks(check: OutcomeCheck | None) -> list[Block]:
    """The items promised against the items done, as the outcome check judged them (nothing for results stored
    before the check existed)."""
    if check is None:
        return []
    if check.verdict == Verdict.COMPLETE:
        return [section(f"*Items:* {escape(check.figures, 300)}: every item the plan promised.")]
    reasons = [f"• {escape(reason, FOREIGN_TEXT)}" for reason in check.reasons]
    head = f"*Items:* {escape(check.figures, 300)}" + (" — *why it is partial:*" if check.partial else ":")
    return [section(head + "\n" + listing(reasons, "reasons", SECTION_TEXT - len(head) - 1))]


def finished_state(outcome: RestoreOutcome) -> str:
    """The approval message's note once the run ended (plain text)."""
    if outcome.check is not None and outcome.check.partial:
        return "PARTIAL: see the thread for the numbers and why."
    return "Finished: see the thread for the report."


def finished_summary(request: RestoreRequest, outcome: RestoreOutcome) -> str:
    """How a run that ended is named to the requester and on the approval message (mrkdwn, escaped)."""
    check = outcome.check
    if check is not None and check.partial:
        return f"PARTIAL: {escape(check.figures, 300)}; why is in the approval thread."
    return "finished. " + carry_over_summary(request, outcome)


def _throttled(outcome: RestoreOutcome) -> str:
    """The loader's throttled calls, write units used and its ceiling, when it reports them."""
    details = outcome.details
    text = ""
    throttles = details.get("throttles")
    if isinstance(throttles, int) and not isinstance(throttles, bool):
        text += f" · Throttled calls: *{throttles:,}*"
    units = details.get("units_consumed")
    seconds = outcome.duration_seconds
    if isinstance(units, int | float) and not isinstance(units, bool) and seconds:
        text += f"\nWrite units used: *{units:,.0f}* (*{units / seconds:,.0f}*/s on average)"
    rate = details.get("rate")
    if isinstance(rate, str):
        text += f" · Ceiling: at most {escape(rate, 300)}"
    return text


def _unverified_files(outcome: RestoreOutcome) -> str:
    """The loader's count of data files written without an MD5 to check them against, when it reports one."""
    unchecked = outcome.details.get("unverified_files")
    if not isinstance(unchecked, int) or isinstance(unchecked, bool) or unchecked < 0:
        return ""
    if unchecked == 0:
        return " · every data file matched its MD5"
    return f"\n{emoji.WARN} *{plural(unchecked, 'data file')}* had no MD5 in the manifest and were written unchecked"


def carry_over_text(outcome: RestoreOutcome) -> str:
    """What to set again on the new table, in one section: the settings to set first, then the ones that need
    nothing; whatever does not fit is counted."""
    needed = [c for c in outcome.not_carried_over if c.needed]
    fine = [c for c in outcome.not_carried_over if not c.needed]
    lines = ["*Not carried over by DynamoDB* (TTL, streams, PITR, tags, auto scaling, deletion protection):"]
    if outcome.source_unreachable:
        lines.append(f"_I could not read the source table: {escape(outcome.source_unreachable, FOREIGN_TEXT)}._")
    closing = []
    if fine:
        names = [f"{escape(c.setting, 100)} ({escape(c.source_state, 200)})" for c in fine]
        closing.append(f"Nothing to set for: {listing(names, 'settings', 600, ', ')}")
    if not needed and not outcome.source_unreachable:
        closing.append("The source uses none of them: nothing to set again.")
    rows = [
        f"• *{escape(item.setting, 100)}* — source: {escape(item.source_state, 300)} → set again: "
        f"{code(item.action, FOREIGN_TEXT)}"
        for item in needed
    ]
    if rows:
        budget = SECTION_TEXT - sum(len(line) + 1 for line in [*lines, *closing])
        lines.append(listing(rows, "settings to set again", budget))
    return "\n".join([*lines, *closing])


def carry_over_summary(request: RestoreRequest, outcome: RestoreOutcome) -> str:
    """One line for the requester: the figures, or which settings to set again on the new table."""
    if request.mode == RestoreMode.LOAD or request.mode in REPAIR_MODES:
        written, deletes = plural(outcome.items_written or 0, "item"), plural(outcome.deletes_applied or 0, "delete")
        return f"{written} written, {deletes} applied."
    needed = [escape(c.setting, 100) for c in outcome.not_carried_over if c.needed]
    if needed:
        names = listing(needed, "settings", 600, ", ")
        return f"Set again on the new table: {names} (commands in the approval thread)."
    return "Nothing to set again on the new table."


def failed_note(request: RestoreRequest, reason: str) -> Message:
    """The restore failed: why, and what to do."""
    text = (
        f"{emoji.FAIL} Restore {code(request.id, 100)} into {code(request.target_display, 600)} *failed*: "
        f"{escape(reason, FOREIGN_TEXT)}"
    )
    return message(text, section(text))


def requested_reply(requested: Requested) -> Message:
    """The answer to the requester: the request id, where it waits and until when, then what it would restore."""
    request = requested.request
    head = (
        f"{emoji.APPROVAL} Restore request {code(request.id, 100)} is waiting for "
        f"{plural(request.required_approvals, 'approval')} in {channel(requested.channel)}. It expires at "
        f"{when(request.expires_at)}."
    )
    target = f"• *Target:* {code(request.target_display, 600)}"
    sources = [f"• {source_line(s)}" for s in request.sources]
    noun = "exports" if any(s.export_id for s in request.sources) else "sources"
    body = target + ("\n" + listing(sources, noun, SECTION_TEXT - len(target) - 1) if sources else "")
    blocks = [section(head), section(body)]
    if requested.planned.notes:
        blocks.append(context(*(f"{emoji.INFO} {escape(note, FOREIGN_TEXT)}" for note in requested.planned.notes)))
    return message(f"Restore request {escape(request.id, 100)} is waiting for approval", *blocks)


def click_refused(error: BotError) -> Message:
    """The ephemeral reason a click was refused."""
    text = f"{emoji.REFUSED} " + " ".join(error_lines(error))
    return message(text, section(text))


def decision_text(decision: Decision) -> str:
    """What a click on Approve or Reject did, said to the one who clicked (in the message and on the Home tab)."""
    request = code(decision.request.id, 100)
    if decision.outcome == "recorded":
        return (
            f"{emoji.RECORDED} Your approval of {request} is recorded; "
            f"{plural(decision.remaining, 'more approval')} needed."
        )
    if decision.outcome == "approved":
        return f"{emoji.OK} You approved {request}; the restore is starting."
    return f"{emoji.REFUSED} You rejected {request}; nothing will be restored."


def click_accepted(text: str) -> Message:
    """The ephemeral confirmation of a click that counted; `text` is the bot's own mrkdwn."""
    return message(text, section(text))


def _approvers(approvals: list[Approval]) -> str:
    return ", ".join(user(a.approver) for a in approvals)


def _deciders(request: RestoreRequest) -> str:
    if not request.decided_by or request.decided_by == BOT_ACTOR:
        return "the bot"
    return ", ".join(user(u) for u in request.decided_by.split(","))
