"""How the controls read in Slack: one line per table ("controls: 3 of 5 pass; fails: immutable copy"), a summary
line for `/ddb-coverage` and the Home tab, and the answer to `/ddb-report` once its files are shared."""

from __future__ import annotations

from bot.controls.models import ControlsReport, Outcome, TableControls
from handlers.kit import emoji
from handlers.kit.blocks import Block, Message, code, escape, listing, message, section
from handlers.kit.text import count, plural, when

SHOWN_TABLES = 20


def controls_line(table: TableControls) -> str:
    """`controls: 3 of 5 pass; fails: immutable copy, restore proven; unknown: retention`."""
    line = f"controls: {count(table.passed)} of {count(len(table.required))} pass"
    for outcome, said in ((Outcome.FAIL, "fails"), (Outcome.UNKNOWN, "unknown")):
        names = [str(r.control) for r in table.short if r.outcome == outcome]
        if names:
            line += f"; {said}: {', '.join(names)}"
    return line


def controls_summary(report: ControlsReport) -> str:
    """`12 tables with control targets · 9 meet every one · 3 short of target`."""
    with_targets = [t for t in report.tables if t.required]
    short = report.short()
    return (
        f"{plural(len(with_targets), 'table')} with control targets · "
        f"{count(len(with_targets) - len(short))} meet every one · {count(len(short))} short of target"
    )


def controls_section(report: ControlsReport) -> Block | None:
    """The controls part of `/ddb-coverage`: the summary, then the tables short of target (most failures first);
    None when no table has a target."""
    if not any(t.required for t in report.tables):
        return None
    rows = [_row(t) for t in report.short()[:SHOWN_TABLES]]
    head = f"*Controls* · {controls_summary(report)}"
    return section(head + ("\n" + listing(rows, "tables", 2600) if rows else "") + "\nEvidence: `/ddb-report`.")


def report_message(report: ControlsReport, scope: str) -> Message:
    """The answer once the evidence files are shared in the channel."""
    required = sum(len(t.required) for t in report.tables)
    passed = sum(t.passed for t in report.tables)
    mark = emoji.OK if not report.short() else emoji.WARN
    head = (
        f"{mark} *Backup controls evidence* for {code(scope, 100)} shared in this channel: "
        f"{plural(len(report.tables), 'table')}, {count(passed)} of {plural(required, 'required control')} pass "
        f"(as of {when(report.at)})."
    )
    blocks = [section(head)]
    rows = [_row(t) for t in report.short()[:SHOWN_TABLES]]
    if rows:
        blocks.append(section("*Short of target*\n" + listing(rows, "tables", 2800)))
    return message(f"Backup controls evidence for {escape(scope, 100)} shared", *blocks)


def evidence_comment(scope: str, report: ControlsReport, asked_by: str) -> str:
    """The comment the files are shared with (who asked, what, as of when)."""
    return (
        f"Backup controls evidence for {code(scope, 100)}, as of {when(report.at)}, asked by {asked_by}: "
        f"{plural(len(report.tables), 'table')}, one CSV row per table and control, with the export or drill "
        "that proves it."
    )


def _row(table: TableControls) -> str:
    return f"• {code(table.key, 300)} ({escape(table.region, 40)}) · {escape(controls_line(table), 600)}"
