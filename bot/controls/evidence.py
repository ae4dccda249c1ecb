"""The evidence files `/ddb-report` shares: a CSV with one row per table per control (what an auditor filters and
keeps) and a Markdown summary (what a person reads). Only names, ids, times and outcomes; never an item.

Every cell is text someone else chose (table names, bucket names, reasons quoting AWS), so it is made inert for
the program that opens it: a CSV cell starting with = + - @ (or a tab or carriage return) is prefixed with ' so a
spreadsheet shows it instead of running it (OWASP's advice on CSV injection), and a Markdown cell has its pipes,
backticks, brackets and line breaks escaped so it stays in its column and links nowhere.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

from bot.controls.models import Control, ControlResult, ControlsReport, Outcome, TableControls
from bot.timefmt import iso

HEADER = (
    "account",
    "region",
    "table",
    "control",
    "target",
    "result",
    "reason",
    "export_id",
    "export_arn",
    "drill_id",
    "when",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def evidence_rows(report: ControlsReport) -> list[tuple[str, ...]]:
    """The CSV's rows after its header: each table, each control, in the order they are listed."""
    return [_row(table, result) for table in report.tables for result in table.results]


def evidence_csv(report: ControlsReport) -> str:
    """The CSV file (RFC 4180: quoted where needed, CRLF line ends), every cell made inert."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(tuple(inert(cell) for cell in row) for row in evidence_rows(report))
    return out.getvalue()


def evidence_markdown(report: ControlsReport, scope: str) -> str:
    """The summary: counts per control, then each table with a control short of its target and why."""
    lines = [
        f"# Backup controls evidence: {_md(scope)}",
        "",
        f"As of {iso(report.at)}; {len(report.tables)} tables. Every row with its proof is in the CSV file.",
        "",
        "| Control | Pass | Fail | Unknown | Not required |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for control in Control:
        counted = Counter(r.outcome for t in report.tables for r in t.results if r.control == control)
        cells = [str(counted[o]) for o in (Outcome.PASS, Outcome.FAIL, Outcome.UNKNOWN, Outcome.NOT_REQUIRED)]
        lines.append(f"| {control} | {' | '.join(cells)} |")
    short = report.short()
    lines += ["", "## Short of target" if short else "## Every required control passes", ""]
    if short:
        lines += ["| Table | Region | Account | Control | Result | Why |", "| --- | --- | --- | --- | --- | --- |"]
        lines += [
            f"| {_md(t.key)} | {_md(t.region)} | {_md(t.account or 'unknown')} | {r.control} | {r.outcome} "
            f"| {_md(r.reason)} |"
            for t in short
            for r in t.short
        ]
    return "\n".join(lines) + "\n"


def inert(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text (never a formula)."""
    return f"'{cell}" if cell.startswith(FORMULA_START) else cell


def _row(table: TableControls, result: ControlResult) -> tuple[str, ...]:
    proof = result.proof
    return (
        table.account or "",
        table.region,
        table.key,
        str(result.control),
        result.target,
        str(result.outcome),
        result.reason,
        proof.export_id or "",
        proof.export_arn or "",
        proof.drill_id or "",
        iso(proof.at) if proof.at else "",
    )


def _md(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
