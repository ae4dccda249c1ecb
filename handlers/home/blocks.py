"""The App Home tab: coverage, what runs now, restores waiting for approval (with the buttons for an approver), the
next fires and the last failures; a home view within Slack's 100 blocks however much there is."""

from __future__ import annotations

from bot.home.dashboard import Dashboard
from bot.restores.models import RestoreRequest, RestoreStatus
from bot.restores.summary import PlanSummary
from handlers.controls.blocks import controls_line, controls_summary
from handlers.coverage.blocks import coverage_summary
from handlers.kit import emoji
from handlers.kit.blocks import (
    CONFIRM_TEXT,
    VIEW_BLOCKS,
    Block,
    View,
    button,
    code,
    confirm_dialog,
    context,
    escape,
    fit_blocks,
    listing,
    section,
)
from handlers.kit.text import plural, user, when
from handlers.restores.summary_blocks import plan_summary_blocks

HOME_APPROVE_ACTION = "home_restore_approve"
HOME_REJECT_ACTION = "home_restore_reject"


def home_view(dashboard: Dashboard, notice: str | None = None) -> View:
    """The Home tab of one person (`notice`: what their last click did)."""
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "DynamoDB backups"}}]
    if notice:
        blocks.append(section(notice))
    if dashboard.warnings:
        blocks.append(section(_warnings(dashboard)))
    blocks.append(section(_coverage(dashboard)))
    blocks.append(section(_running(dashboard)))
    blocks.extend(_pending(dashboard))
    blocks.append(section(_fires(dashboard)))
    blocks.append(section(_failures(dashboard)))
    blocks.append(context(f"As of {when(dashboard.at)}. Open the tab again to refresh."))
    return {"type": "home", "blocks": fit_blocks(blocks, VIEW_BLOCKS)}


def _warnings(d: Dashboard) -> str:
    lines = [f"{emoji.WARN} {escape(warning, 900)}" for warning in d.warnings]
    return "*Settings to fix* (ask whoever runs the bot)\n" + listing(lines, "more", 2800)


def _coverage(d: Dashboard) -> str:
    if d.coverage is None:
        return f"*Coverage*: could not be read ({escape(d.coverage_problem or 'unknown', 500)})."
    report = d.coverage
    line = f"*Coverage*: {coverage_summary(report)}"
    worst = [
        f"{code(t.key, 200)}: {', '.join(t.issues(report.at, report.stale_after))}"
        for t in report.needing_attention()[:5]
    ]
    line += "\n" + listing(worst, "tables", 1400) if worst else ""
    return line + _controls(d) + "\nDetails: `/ddb-coverage`; evidence: `/ddb-report`."


def _controls(d: Dashboard) -> str:
    """The controls' summary and the tables most short of target (nothing when no table has a target)."""
    if d.controls is None or not any(t.required for t in d.controls.tables):
        return ""
    short = [f"{code(t.key, 200)}: {escape(controls_line(t), 300)}" for t in d.controls.short()[:5]]
    return f"\n*Controls*: {controls_summary(d.controls)}" + ("\n" + listing(short, "tables", 1000) if short else "")


def _running(d: Dashboard) -> str:
    lines = [
        f"Export {code(j.export_id, 100)} of {code(j.table_key, 300)} since {when(j.started_at or j.created_at)}"
        for j in d.running_exports
    ]
    lines += [
        f"Restore {code(r.id, 100)} into {code(r.target_display, 300)} ({escape(r.status, 20)})"
        for r in d.running_restores
    ]
    return "*Running now*\n" + (listing(lines, "more", 2800) if lines else "Nothing.")


def _pending(d: Dashboard) -> list[Block]:
    if not d.pending:
        return [section("*Waiting for approval*\nNothing.")]
    blocks: list[Block] = [section("*Waiting for approval*")]
    for summary in d.pending:
        blocks.append(section(_request_line(summary)))
        blocks.extend(plan_summary_blocks(summary, with_expiry=True))
        if d.approver:
            blocks.append(_decision(summary))
    return blocks


def _request_line(summary: PlanSummary) -> str:
    return (
        f"*Restore request {code(summary.request_id, 100)}* from {user(summary.requested_by)} needs "
        f"{plural(summary.required_approvals, 'approval')}"
    )


def _decision(summary: PlanSummary) -> Block:
    start = "Restore into "
    end = ". It starts as soon as the approvals are in."
    approve = button(
        "Approve",
        HOME_APPROVE_ACTION,
        summary.button_value,
        style="primary",
        confirm=confirm_dialog(
            "Approve this restore?",
            f"{start}{code(summary.target, CONFIRM_TEXT - len(start) - len(end))}{end}",
            "Approve",
            "Cancel",
        ),
    )
    reject = button("Reject", HOME_REJECT_ACTION, summary.button_value, style="danger")
    return {"type": "actions", "block_id": f"home_decision_{summary.request_id}", "elements": [approve, reject]}


def _fires(d: Dashboard) -> str:
    lines = [
        f"{when(fire)} · {code(s.id, 200)}: {escape(s.export_type, 20)} export of {code(s.table, 300)}"
        for s, fire in d.next_fires
    ]
    return "*Next scheduled exports*\n" + (listing(lines, "more", 2800) if lines else "None scheduled.")


def _failures(d: Dashboard) -> str:
    lines = [
        f"Export {code(j.export_id, 100)} of {code(j.table_key, 300)}: {escape(j.failure_code or 'failed', 200)}"
        for j in d.failed_exports
    ]
    lines += [_ended_short(r) for r in d.failed_restores]
    return "*Failures in the last 7 days*\n" + (listing(lines, "more", 2800) if lines else "None.")


def _ended_short(request: RestoreRequest) -> str:
    """A failed restore, a partial one with its numbers (not every promised item landed), or a cancelled one with
    what it wrote by then."""
    line = f"Restore {code(request.id, 100)} into {code(request.target_display, 300)}"
    check = request.outcome_check
    if request.status == RestoreStatus.PARTIAL and check is not None:
        return f"{line}: *PARTIAL*, {escape(check.figures, 200)}"
    if request.status == RestoreStatus.CANCELLED:
        return f"{line}: *CANCELLED*" + (f", {escape(check.figures, 200)} by then" if check is not None else "")
    if request.status == RestoreStatus.FAILED:
        return f"{line}: *FAILED*"
    return line
