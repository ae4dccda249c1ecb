"""Runs driven by a test clock through the scheduler's own job functions: incremental chaining, duplicated fires,
the digest. The bot's services are built but not started, so nothing fires behind the test's back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.demo.slack_standin import SlackStandIn
from bot.models import ExportJob, ExportStatus, ExportType, Requester
from bot.schedules.digest import build_digest
from bot.schedules.runs import report_late_runs, run_schedule
from bot.schedules.service import NewSchedule, ScheduleCore, add_schedule
from bot.wiring.services import Services
from scheduler.jobs import fire_digest, fire_schedule
from tests.integration.conftest import NOTIFY
from tests.support.aws_world import DEFAULT_ACCOUNT, exports_held, set_pitr_window
from tests.support.schedules import text_of, wait_until

HOUR = timedelta(hours=1)


class MovableClock:
    """The bot's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def scheduling(services: Services) -> ScheduleCore:
    from bot.background.leader import LeaderGate

    gate = next(job for job in services.background if isinstance(job, LeaderGate))
    runner = gate.jobs[-1]
    return runner.sc  # type: ignore[attr-defined, no-any-return]


def finish_every_export(built: Services) -> None:
    """Run tracker cycles until moto has finished every export, then the work they owe (each result posted)."""
    wait_until(lambda: built.tracker.run_cycle() and not built.core.store.unfinished_exports(), "exports to finish")
    built.work_runner.run_pending()


def test_an_export_still_running_past_expected_hours_is_reported_once(
    services: Callable[..., Services], slack: SlackStandIn, tmp_path: Path
) -> None:
    config = tmp_path / "late.toml"
    config.write_text('[[schedules]]\nid = "nightly"\ntable = "orders"\ncron = "0 2 * * *"\nexpected_hours = 0.5\n')
    built = services(config_file=config, oncall="S0ONCALL")
    sc = scheduling(built)
    with exports_held():
        run_schedule(sc, "nightly", datetime.now(UTC) - HOUR)
        assert report_late_runs(sc) == 1
        assert report_late_runs(sc) == 0, "reported once"
        built.work_runner.run_pending()  # the messages the runs owe
    late = slack.wait_for(lambda m: m.channel == NOTIFY and "running late" in m.text)
    assert "expected to finish within 0.5 hours" in text_of(late) and "<!subteam^S0ONCALL>" in text_of(late)


def exports_of(sc: ScheduleCore, schedule_id: str) -> list[ExportJob]:
    return sorted(sc.core.store.schedule_exports(schedule_id, 100), key=lambda j: j.created_at or datetime.min)


def test_incremental_runs_chain_without_gap_or_overlap_and_a_broken_chain_restarts_with_a_full_export(
    services: Callable[..., Services], slack: SlackStandIn
) -> None:
    built = services(oncall="S0ONCALL")
    sc = scheduling(built)
    base = (datetime.now(UTC) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    clock = MovableClock(base - timedelta(minutes=30))
    sc.core.clock = clock
    set_pitr_window(DEFAULT_ACCOUNT, "orders", base - 2 * HOUR, base + timedelta(days=30))
    request = NewSchedule("orders", "0 * * * *", export_type="incremental", options={"prefix": "chain"})
    schedule_id = add_schedule(sc, request, Requester("U0ALICE")).view.schedule.id

    def fire_at(moment: datetime) -> ExportJob:
        clock.now = moment + timedelta(seconds=7)  # APScheduler runs a job a little after its time
        fire_schedule(sc, lambda: True, schedule_id)
        return exports_of(sc, schedule_id)[-1]

    first = fire_at(base)
    assert (first.export_type, first.export_time) == (ExportType.FULL, base), "a full export starts the chain"
    second = fire_at(base + HOUR)
    with exports_held():  # DynamoDB fails this one
        third = fire_at(base + 2 * HOUR)
        assert sc.core.store.finish_export(third.export_arn, status=ExportStatus.FAILED, failure_code="S3AccessDenied")
    assert (second.export_from, second.export_to) == (base, base + HOUR)
    assert (third.export_from, third.export_to) == (base + HOUR, base + 2 * HOUR)
    fourth = fire_at(base + 3 * HOUR)
    assert (fourth.export_from, fourth.export_to) == (base + HOUR, base + 3 * HOUR), "the failed window is redone"

    gap = fire_at(base + 28 * HOUR)
    assert gap.export_type == ExportType.FULL and gap.export_time == base + 28 * HOUR, "over 24 h: full export"
    set_pitr_window(DEFAULT_ACCOUNT, "orders", base + 29 * HOUR, base + timedelta(days=30))  # PITR off and on
    restarted = fire_at(base + 30 * HOUR)
    assert restarted.export_type == ExportType.FULL and restarted.export_time == base + 30 * HOUR
    last = fire_at(base + 31 * HOUR)
    assert (last.export_from, last.export_to) == (base + 30 * HOUR, base + 31 * HOUR)

    # What AWS was asked: ExportFromTime/ExportToTime as planned, one ClientToken per fire.
    requests = [e["parameters"] for e in reversed(sc.core.store.audit_entries(action="export.start"))]
    incremental = [r["IncrementalExportSpecification"] for r in requests if r["ExportType"] == ExportType.INCREMENTAL]
    assert [(s["ExportFromTime"], s["ExportToTime"]) for s in incremental] == [
        (str(base + i * HOUR), str(base + j * HOUR)) for i, j in ((0, 1), (1, 2), (1, 3), (30, 31))
    ]
    assert len({r["ClientToken"] for r in requests}) == len(requests) == 7

    # The successful exports cover time without gap or overlap inside each chain.
    chain = [j for j in exports_of(sc, schedule_id) if j.status != ExportStatus.FAILED]
    covered = [(j.export_from, j.export_to) for j in chain if j.export_type == ExportType.INCREMENTAL]
    assert covered == [(base, base + HOUR), (base + HOUR, base + 3 * HOUR), (base + 30 * HOUR, base + 31 * HOUR)]

    finish_every_export(built)
    notes = [text_of(m) for m in slack.messages(NOTIFY)]
    assert sum("First run of this incremental schedule" in n for n in notes) == 1
    assert sum("more than 24 hours" in n for n in notes) == 1
    assert sum("PITR was turned off and on again" in n for n in notes) == 1
    failed = next(n for n in notes if third.export_id in n and "FAILED" in n)
    assert "<!subteam^S0ONCALL>" in failed, "a failed scheduled export mentions on-call"
    completed = [n for n in notes if "COMPLETED" in n]
    assert len(completed) == 6 and all("schedule `" in n for n in completed)


def test_a_window_that_fails_after_the_next_one_started_is_exported_again_and_named_in_the_digest_until_then(
    services: Callable[..., Services], slack: SlackStandIn
) -> None:
    built = services()
    sc = scheduling(built)
    base = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    clock = MovableClock(base - timedelta(minutes=30))
    sc.core.clock = clock
    set_pitr_window(DEFAULT_ACCOUNT, "orders", base - 2 * HOUR, base + timedelta(days=30))
    request = NewSchedule("orders", "0 * * * *", export_type="incremental", options={"prefix": "heal"})
    schedule_id = add_schedule(sc, request, Requester("U0ALICE")).view.schedule.id

    def fire_at(moment: datetime) -> ExportJob:
        clock.now = moment + timedelta(seconds=7)
        fire_schedule(sc, lambda: True, schedule_id)
        return exports_of(sc, schedule_id)[-1]

    fire_at(base)
    with exports_held():
        slow = fire_at(base + HOUR)  # still running when the next window starts
        following = fire_at(base + 2 * HOUR)
        assert sc.core.store.finish_export(slow.export_arn, status=ExportStatus.FAILED, failure_code="S3AccessDenied")
    assert (following.export_from, following.export_to) == (base + HOUR, base + 2 * HOUR)
    orders = next(t for t in build_digest(sc, clock.now).tables if t.table_key == "orders")
    hole = f"{base:%Y-%m-%dT%H:%M:%SZ}–{base + HOUR:%Y-%m-%dT%H:%M:%SZ} not covered by any export of `{schedule_id}`"
    assert hole in orders.flags

    healing = fire_at(base + 3 * HOUR)
    assert (healing.export_from, healing.export_to) == (base, base + 3 * HOUR), "the failed window is redone"
    orders = next(t for t in build_digest(sc, clock.now).tables if t.table_key == "orders")
    assert not any("not covered" in flag for flag in orders.flags)
    built.work_runner.run_pending()
    note = slack.wait_for(lambda m: m.channel == NOTIFY and "exports again from" in text_of(m))
    assert f"{base + HOUR:%Y-%m-%dT%H:%M:%SZ}" in text_of(note) and "failed" in text_of(note)


def test_an_incremental_run_too_soon_after_the_last_one_is_skipped_and_says_why(
    services: Callable[..., Services], slack: SlackStandIn
) -> None:
    built = services()
    sc = scheduling(built)
    base = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    clock = MovableClock(base - timedelta(minutes=5))
    sc.core.clock = clock
    set_pitr_window(DEFAULT_ACCOUNT, "orders", base - HOUR, base + timedelta(minutes=10))
    request = NewSchedule("orders", "*/15 * * * *", export_type="incremental")
    schedule_id = add_schedule(sc, request, Requester("U0ALICE")).view.schedule.id
    clock.now = base
    fire_schedule(sc, lambda: True, schedule_id)
    clock.now = base + timedelta(minutes=15)
    fire_schedule(sc, lambda: True, schedule_id)  # PITR's latest time is only 10 minutes past the chain end
    assert len(sc.core.store.schedule_exports(schedule_id)) == 1
    built.work_runner.run_pending()
    skipped = slack.wait_for(lambda m: m.channel == NOTIFY and "skipped" in m.text)
    assert "needs at least 15 minutes" in text_of(skipped)


def test_a_duplicated_fire_starts_one_export_even_from_two_replicas(
    services: Callable[..., Services], ddb: Any
) -> None:
    replicas = [scheduling(services()) for _ in range(2)]
    schedule_id = add_schedule(replicas[0], NewSchedule("orders", "0 2 * * *"), Requester("U0ALICE")).view.schedule.id
    fire = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    barrier = threading.Barrier(6)

    def fire_once(sc: ScheduleCore) -> None:
        barrier.wait()
        run_schedule(sc, schedule_id, fire)

    threads = [threading.Thread(target=fire_once, args=(replicas[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
    assert len(ddb.list_exports(TableArn=arn)["ExportSummaries"]) == 1, "AWS saw one export"
    assert len(replicas[0].core.store.schedule_exports(schedule_id)) == 1
    assert len(replicas[1].store.runs(schedule_id)) == 1


def test_the_daily_digest_is_posted_once_and_flags_tables_without_pitr_or_a_recent_export(
    services: Callable[..., Services], slack: SlackStandIn, tmp_path: Path
) -> None:
    config = tmp_path / "digest.toml"
    config.write_text(
        '[digest]\ncron = "0 9 * * *"\n\n[tables.customers]\nprefix = "crm"\n\n'
        '[[schedules]]\nid = "nightly"\ntable = "orders"\ncron = "0 2 * * *"\nexpected_hours = 2\n\n'
        '[[schedules]]\nid = "crm-nightly"\ntable = "customers"\ncron = "0 3 * * *"\n'
    )
    built = services(config_file=config)
    sc = scheduling(built)
    run_schedule(sc, "nightly", datetime.now(UTC) - HOUR)
    finish_every_export(built)
    for _ in range(2):
        fire_digest(sc, lambda: True, "0 9 * * *", "UTC")
        built.work_runner.run_pending()
    digests = [m for m in slack.messages(NOTIFY) if "digest" in m.text.lower()]
    assert len(digests) == 1, "one digest per fire, however often it is fired"
    body = text_of(digests[0])
    assert body.index("customers") < body.index("orders"), "flagged tables come first"
    assert "PITR is off" in body and "Month to date: $" in body and "Next run: 20" in body
    digest = build_digest(sc, datetime.now(UTC))
    assert [t.table_key for t in digest.flagged] == ["customers"]
    customers, orders = digest.tables
    assert customers.flags == ("PITR is off", "no successful export yet (expected within 2 days)")
    assert (
        orders.pitr_enabled and orders.last_success is not None and orders.last_success.status == ExportStatus.COMPLETED
    )
    assert orders.next_run is not None and orders.month_to_date is not None
