"""What counts as needing attention, in which order, and the export time read from an export id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.coverage.models import Cover, CoverageReport, ScheduledPlace, TableCoverage, schedule_cover
from bot.coverage.survey import export_started
from bot.drills.models import Drill, DrillSpec, DrillStatus, drill_flag
from bot.models import ExportType
from bot.verification.models import ExportTarget

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def table(key: str, **changes: object) -> TableCoverage:
    values: dict[str, object] = {
        "key": key,
        "alias": None,
        "region": "us-east-1",
        "pitr_enabled": True,
        "recovery_days": 35,
        "deletion_protection": True,
        "last_export": NOW - timedelta(days=1),
        "scheduled": True,
    }
    values.update(changes)
    return TableCoverage(**values)  # type: ignore[arg-type]


def test_a_protected_table_needs_nothing_and_each_gap_is_named() -> None:
    assert table("ok").issues(NOW, WEEK) == ()
    assert table("t", pitr_enabled=False).issues(NOW, WEEK) == ("PITR off",)
    assert table("t", last_export=None).issues(NOW, WEEK) == ("never exported",)
    assert table("t", last_export=NOW - timedelta(days=9)).issues(NOW, WEEK) == ("last export 9 days ago",)
    assert table("t", scheduled=False, deletion_protection=False).issues(NOW, WEEK) == (
        "no schedule",
        "deletion protection off",
    )
    assert table("t", problem="AccessDenied").issues(NOW, WEEK) == ("could not be read",)


def test_tables_needing_attention_come_worst_first_then_by_name() -> None:
    tables = (
        table("b-minor", deletion_protection=False),
        table("a-pitr", pitr_enabled=False, last_export=None, scheduled=False),
        table("fine"),
        table("c-unread", problem="denied"),
        table("d-stale", last_export=NOW - timedelta(days=30)),
    )
    report = CoverageReport(NOW, tables, (), WEEK, places=1)
    assert [t.key for t in report.needing_attention()] == ["c-unread", "a-pitr", "d-stale", "b-minor"]
    assert report.count("PITR off") == 1 and report.count("last export") == 1


@given(
    st.datetimes(datetime(2001, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC)),
    st.text("0123456789abcdef", min_size=8, max_size=8),
)
def test_the_start_time_is_read_back_from_any_export_id_to_the_millisecond(moment: datetime, suffix: str) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    milliseconds = round(moment.timestamp() * 1000)
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/{milliseconds:014d}-{suffix}"
    assert export_started(arn) == moment


def test_an_export_id_without_a_time_gives_no_time() -> None:
    assert export_started("arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/not-a-time") is None


def a_drill(status: DrillStatus, finished: datetime | None) -> Drill:
    target = ExportTarget("e-1", None, "b", None, None, ExportType.FULL, None, "us-east-1", "e-1")
    spec = DrillSpec("orders", None, "us-east-1", target, "orders-drill-202612021200", {}, 3)
    return Drill("d-1", spec, "U0ALICE", None, status=status, finished_at=finished, created_at=finished)


def test_a_failed_or_old_restore_drill_is_named_and_a_recent_pass_or_none_is_not() -> None:
    assert drill_flag(a_drill(DrillStatus.FAILED, NOW - timedelta(days=1)), NOW) == "last restore drill failed"
    assert drill_flag(a_drill(DrillStatus.PASSED, NOW - timedelta(days=45)), NOW) == "last restore drill 45 days ago"
    assert drill_flag(a_drill(DrillStatus.PASSED, NOW - timedelta(days=3)), NOW) is None
    assert drill_flag(a_drill(DrillStatus.RUNNING, None), NOW) is None
    assert drill_flag(None, NOW) is None, "never drilled is shown, not flagged"
    flagged = table("t", drill_issue="last restore drill failed")
    assert flagged.issues(NOW, WEEK) == ("last restore drill failed",)
    assert flagged.severity(NOW, WEEK) > table("u", scheduled=False).severity(NOW, WEEK)


def test_the_drill_age_limit_is_the_one_configured() -> None:
    ten_days_ago = a_drill(DrillStatus.PASSED, NOW - timedelta(days=10))
    assert drill_flag(ten_days_ago, NOW) is None, "within the default 30 days"
    assert drill_flag(ten_days_ago, NOW, timedelta(days=7)) == "last restore drill 10 days ago"


def test_a_schedule_covers_only_its_own_account_region_and_table_and_a_running_export_one_wins() -> None:
    prod_orders = ScheduledPlace("prod", "us-east-1", "orders", Cover.PAUSED)
    every_own_table = ScheduledPlace(None, "eu-west-1", None, Cover.EXPORTS)
    drill = ScheduledPlace("prod", "us-east-1", "orders", Cover.DRILLS_ONLY)
    running = ScheduledPlace("prod", "us-east-1", "orders", Cover.EXPORTS)

    assert schedule_cover([prod_orders], "prod", "us-east-1", "orders") == Cover.PAUSED
    assert schedule_cover([prod_orders], "prod", "eu-west-1", "orders") is None, "another region"
    assert schedule_cover([prod_orders], None, "us-east-1", "orders") is None, "another account"
    assert schedule_cover([prod_orders], "prod", "us-east-1", "orders-v2") is None, "another table"
    assert schedule_cover([every_own_table], None, "eu-west-1", "anything") == Cover.EXPORTS
    assert schedule_cover([drill, prod_orders], "prod", "us-east-1", "orders") == Cover.PAUSED
    assert schedule_cover([drill], "prod", "us-east-1", "orders") == Cover.DRILLS_ONLY
    assert schedule_cover([drill, running, prod_orders], "prod", "us-east-1", "orders") == Cover.EXPORTS


def test_a_table_with_only_a_paused_or_drill_schedule_says_so_and_weighs_as_unscheduled() -> None:
    paused = table("p", scheduled=False, schedule_note="paused")
    drills = table("d", scheduled=False, schedule_note="drills only")

    assert paused.issues(NOW, WEEK) == ("no schedule (paused)",)
    assert drills.issues(NOW, WEEK) == ("no schedule (drills only)",)
    assert paused.severity(NOW, WEEK) == drills.severity(NOW, WEEK) == table("n", scheduled=False).severity(NOW, WEEK)
    report = CoverageReport(NOW, (paused, drills, table("ok")), (), WEEK, 1)
    assert report.count("no schedule") == 2
