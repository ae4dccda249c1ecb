"""The evidence files: one CSV row per table per control with its proof, cells a spreadsheet cannot run, and a
Markdown summary whose cells stay in their columns."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from bot.controls.evidence import HEADER, evidence_csv, evidence_markdown, inert
from bot.controls.models import Control, ControlResult, ControlsReport, Outcome, Proof, TableControls

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def report(reason: str = "newest export 2026-03-01T09:00:00Z (3.0 h ago)") -> ControlsReport:
    results = (
        ControlResult(Control.BACKUP_EVERY, "every 1d", Outcome.PASS, reason, Proof("e-1", "arn:e-1", None, AT)),
        ControlResult(Control.RETENTION, "", Outcome.NOT_REQUIRED, "no target in the config file"),
        ControlResult(Control.IMMUTABLE, "Object Lock", Outcome.FAIL, "the bucket has no Object Lock retention"),
        ControlResult(Control.CROSS_ACCOUNT, "required", Outcome.UNKNOWN, "no export names its bucket's owner"),
        ControlResult(
            Control.RESTORE_PROVEN, "within 30d", Outcome.PASS, "drill passed", Proof("e-1", None, "d-1", AT)
        ),
    )
    return ControlsReport(AT, (TableControls("prod:orders", "prod", "eu-west-1", "111111111111", results),))


def test_the_csv_has_a_row_per_control_with_the_export_and_drill_that_prove_it() -> None:
    rows = list(csv.reader(io.StringIO(evidence_csv(report()))))
    assert tuple(rows[0]) == HEADER and len(rows) == 6
    assert rows[1] == [
        "111111111111",
        "eu-west-1",
        "prod:orders",
        "backup frequency",
        "every 1d",
        "pass",
        "newest export 2026-03-01T09:00:00Z (3.0 h ago)",
        "e-1",
        "arn:e-1",
        "",
        "2026-03-01T12:00:00Z",
    ]
    assert [r[5] for r in rows[1:]] == ["pass", "not required", "fail", "unknown", "pass"]
    assert rows[5][9] == "d-1"


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_is_prefixed_so_it_shows_as_text(cell: str) -> None:
    assert inert(cell) == f"'{cell}"
    rows = list(csv.reader(io.StringIO(evidence_csv(report(reason=cell)))))
    assert rows[1][6] == f"'{cell}"


def test_the_markdown_counts_each_control_and_lists_what_falls_short_escaped() -> None:
    text = evidence_markdown(report(), "all")
    assert "| backup frequency | 1 | 0 | 0 | 0 |" in text and "| retention | 0 | 0 | 0 | 1 |" in text
    assert "| prod:orders | eu-west-1 | 111111111111 | immutable copy | fail |" in text
    hostile = ControlsReport(
        AT,
        (
            TableControls(
                "t", None, "eu-west-1", None, (ControlResult(Control.IMMUTABLE, "x", Outcome.FAIL, "a|b\n`c` [l](u)"),)
            ),
        ),
    )
    assert "| a\\|b \\`c\\` \\[l\\](u) |" in evidence_markdown(hostile, "all")
