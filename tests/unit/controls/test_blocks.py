"""How the controls read in Slack: one line per table naming what fails, the tables most short of target first in
`/ddb-coverage` and the Home tab, and nothing at all where no table has a target."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.controls.models import Control, ControlResult, ControlsReport, Outcome, TableControls
from bot.coverage.models import CoverageReport, TableCoverage
from bot.home.dashboard import Dashboard
from handlers.controls.blocks import controls_line, report_message
from handlers.coverage.blocks import coverage_message
from handlers.home.blocks import home_view

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def table(key: str, *outcomes: Outcome) -> TableControls:
    results = tuple(ControlResult(c, "t", o, "why") for c, o in zip(Control, outcomes, strict=False))
    return TableControls(key, None, "eu-west-1", "111111111111", results)


ORDERS = table("orders", Outcome.PASS, Outcome.FAIL, Outcome.UNKNOWN, Outcome.PASS, Outcome.FAIL)
LEDGER = table("ledger", Outcome.PASS, Outcome.FAIL, Outcome.PASS, Outcome.NOT_REQUIRED, Outcome.PASS)
SCRATCH = table("scratch", *[Outcome.NOT_REQUIRED] * 5)
COVERAGE = CoverageReport(
    AT,
    tuple(TableCoverage(k, None, "eu-west-1", True, 35, True, AT, True) for k in ("orders", "ledger", "scratch")),
    (),
    timedelta(days=7),
    places=1,
)


def text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_a_tables_line_counts_the_required_controls_and_names_the_failed_then_the_unknown() -> None:
    assert controls_line(ORDERS) == "controls: 2 of 5 pass; fails: retention, restore proven; unknown: immutable copy"
    assert controls_line(LEDGER) == "controls: 3 of 4 pass; fails: retention"


def test_coverage_lists_the_tables_short_of_target_most_failures_first() -> None:
    shown = text(coverage_message(COVERAGE, controls=ControlsReport(AT, (LEDGER, ORDERS, SCRATCH))))
    assert "*Controls* · 3 tables with control targets" not in shown  # scratch has none
    assert "2 tables with control targets · 0 meet every one · 2 short of target" in shown
    assert shown.index("`orders`") < shown.index("`ledger`") and "`scratch`" not in shown


def test_coverage_without_any_target_shows_no_controls() -> None:
    assert "Controls" not in text(coverage_message(COVERAGE, controls=ControlsReport(AT, (SCRATCH,))))


def test_the_home_tab_shows_the_controls_summary_and_the_worst_tables() -> None:
    dashboard = Dashboard(AT, COVERAGE, None, (), (), (), False, (), (), (), controls=ControlsReport(AT, (ORDERS,)))
    shown = text(home_view(dashboard))
    assert "*Controls*: 1 table with control targets" in shown
    assert "controls: 2 of 5 pass; fails: retention, restore proven" in shown and "/ddb-report" in shown


def test_the_report_answer_says_what_was_shared_and_what_falls_short() -> None:
    shown = text(report_message(ControlsReport(AT, (ORDERS, SCRATCH)), "prod"))
    assert "for `prod` shared in this channel: 2 tables, 2 of 5 required controls pass" in shown
    assert "`orders`" in shown and "`scratch`" not in shown.split("Short of target")[1]
