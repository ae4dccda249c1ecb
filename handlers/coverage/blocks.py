"""The coverage answer: a summary first, then the tables that need attention (worst first), then the places that
could not be read; within Slack's limits however many tables there are."""

from __future__ import annotations

from bot.controls.models import ControlsReport
from bot.coverage.models import CoverageReport, TableCoverage
from handlers.controls.blocks import controls_section
from handlers.coverage.schedule_form import schedule_button
from handlers.kit import emoji
from handlers.kit.blocks import (
    Block,
    Message,
    button,
    code,
    confirm_dialog,
    context,
    escape,
    listing,
    message,
    row_action,
    section,
)
from handlers.kit.text import count, plural, when

ROWS_PER_SECTION = 20
SHOWN_ROWS = 200  # 10 sections; the rest is counted, and `<alias>` or `region=` narrows the survey
ENABLE_PITR_ACTION = "coverage_enable_pitr"
BUTTONS_PER_ROW = 5
MAX_BUTTONS = 20  # 4 actions blocks: the worst tables first, the others through `/ddb-pitr … enable`
MAX_SCHEDULE_BUTTONS = 10  # 2 actions blocks; the others through `/ddb-schedule add`


def coverage_message(
    report: CoverageReport, *, operator: bool = False, controls: ControlsReport | None = None
) -> Message:
    """The answer to `/ddb-coverage`; an operator also gets an Enable PITR button per table without PITR; the
    controls of the tables (when any has a target) follow the tables needing attention."""
    summary = coverage_summary(report)
    blocks = [section(f"*Backup coverage* · {summary}")]
    attention = report.needing_attention()
    rows = [_row(report, table) for table in attention[:SHOWN_ROWS]]
    for start in range(0, len(rows), ROWS_PER_SECTION):
        blocks.append(section(listing(rows[start : start + ROWS_PER_SECTION], "tables")))
    controlled = controls_section(controls) if controls is not None else None
    if controlled is not None:
        blocks.append(controlled)
    if operator:
        blocks.extend(enable_buttons(report, attention))
        blocks.extend(schedule_buttons(attention))
    if len(attention) > SHOWN_ROWS:
        blocks.append(
            context(
                f"{plural(len(attention) - SHOWN_ROWS, 'more table')} need attention; narrow with an alias or "
                "`region=`."
            )
        )
    if not attention and report.tables:
        blocks.append(section(f"{emoji.OK} Every table has PITR on, a recent export and a schedule."))
    if report.unreadable:
        lines = [
            f"• {code(place.account, 200)} {escape(place.region, 40)} ({escape(place.what, 20)}): "
            f"{escape(place.reason, 600)}" + (f" {escape(place.fix, 400)}" if place.fix else "")
            for place in report.unreadable
        ]
        blocks.append(section(f"{emoji.WARN} *Not read*\n" + listing(lines, "places", 2900)))
    stale = plural(report.stale_after.days, "day") if report.stale_after.days else "the stale limit"
    blocks.append(
        context(f"An export older than {stale} counts as stale. Turn PITR on with `/ddb-pitr &lt;table&gt; enable`.")
    )
    return message(f"Backup coverage: {summary}", *blocks)


def enable_buttons(report: CoverageReport, attention: list[TableCoverage]) -> list[Block]:
    """Enable PITR buttons for the worst tables without PITR that sit in their account's default region (a
    button's value is the table as `/ddb-pitr` takes it)."""
    unprotected = [t for t in attention if t.pitr_enabled is False and t.in_default_region][:MAX_BUTTONS]
    buttons = [
        button(
            f"Enable PITR: {table.key}",
            row_action(ENABLE_PITR_ACTION, row),
            table.key,
            style="primary",
            confirm=confirm_dialog(
                "Turn PITR on?",
                f"Point-in-time recovery will be turned on for {code(table.key, 200)} ({escape(table.region, 40)}); "
                "it is billed per GB-month of the table.",
                "Turn it on",
                "Cancel",
            ),
        )
        for row, table in enumerate(unprotected)
    ]
    return [
        {"type": "actions", "elements": buttons[start : start + BUTTONS_PER_ROW]}
        for start in range(0, len(buttons), BUTTONS_PER_ROW)
    ]


def schedule_buttons(attention: list[TableCoverage]) -> list[Block]:
    """Schedule exports buttons for the worst tables no schedule covers (that their key alone names)."""
    unscheduled = [t for t in attention if not t.scheduled and t.problem is None and t.in_default_region]
    buttons = [schedule_button(t.key, row) for row, t in enumerate(unscheduled[:MAX_SCHEDULE_BUTTONS])]
    return [
        {"type": "actions", "elements": buttons[start : start + BUTTONS_PER_ROW]}
        for start in range(0, len(buttons), BUTTONS_PER_ROW)
    ]


def coverage_summary(report: CoverageReport) -> str:
    """One line of counts: the answer's head, and the Home tab's coverage line."""
    parts = [
        f"{plural(len(report.tables), 'table')} in {plural(report.places, 'place')}",
        f"{count(report.count('PITR off'))} without PITR",
        f"{count(report.count('never exported') + report.count('last export'))} never or not recently exported",
        f"{count(report.count('no schedule'))} without a schedule",
    ]
    parts.append(f"{count(report.backup_protected())} protected by AWS Backup")
    not_read = sum(u.what == "tables" for u in report.unreadable)
    if not_read:
        parts.append(f"{plural(not_read, 'place')} not read")
    return " · ".join(parts)


def _row(report: CoverageReport, table: TableCoverage) -> str:
    issues = ", ".join(table.issues(report.at, report.stale_after))
    where = f" ({escape(table.region, 40)})"
    detail = f": {escape(table.problem, 300)}" if table.problem else _facts(report, table)
    return f"• {code(table.key, 300)}{where} · {issues}{detail}"


def _facts(report: CoverageReport, table: TableCoverage) -> str:
    """What is in place, beside what is missing: PITR's period, the last export, AWS Backup."""
    facts = []
    if table.pitr_enabled and table.recovery_days:
        facts.append(f"PITR {plural(table.recovery_days, 'day')}")
    if table.last_export is not None and report.at - table.last_export <= report.stale_after:
        facts.append(f"exported {when(table.last_export)}")
    if table.backup_protected:
        facts.append("in AWS Backup")
    return f" ({'; '.join(facts)})" if facts else ""
