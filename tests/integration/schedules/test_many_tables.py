"""Schedules that cover many tables (`*`, `tag:backup=daily`): every matching table gets its own export at each
fire, tables created later included, reported in one message per fire with failures first; beyond the exports
an account may run at once the rest waits and is started by the fire's fan-out work, never twice."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.background.claims import ClaimStore, enqueue_work
from bot.demo.slack_standin import SlackStandIn
from bot.drills.models import Drill, DrillResult, DrillSpec
from bot.drills.store import DRILL, DrillStore
from bot.models import ExportStatus, ExportType, Requester
from bot.schedules.digest import build_digest
from bot.schedules.fanout import FANOUT
from bot.schedules.models import ExportPlan, RunKind, RunState
from bot.schedules.service import NewSchedule, ScheduleCore, add_schedule
from bot.verification.models import ExportTarget
from bot.wiring.services import Services
from handlers.schedules.blocks import digest_message
from scheduler.jobs import fire_digest, fire_schedule
from tests.integration.conftest import NOTIFY
from tests.support.aws_proxy import AwsFaultProxy, Fault
from tests.support.aws_world import create_table, exports_held
from tests.support.schedules import text_of

FIRE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


def fire(built: Services, schedule_id: str, at: datetime) -> None:
    """APScheduler's fire, then what the work runner does with what it owes (its message, queued tables)."""
    built.schedules.core.clock = lambda: at + timedelta(seconds=5)
    fire_schedule(built.schedules, lambda: True, schedule_id)
    built.work_runner.run_pending()


def carry_on(built: Services) -> None:
    """The work runner's next look at a many-table fire's queued tables, once their pause for room is over."""
    time.sleep(0.3)  # DDBBOT_POLL_SECONDS is 0.2 in these tests
    built.work_runner.run_pending()


def exported_tables(sc: ScheduleCore, schedule_id: str) -> list[str]:
    return sorted(job.table_key for job in sc.core.store.schedule_exports(schedule_id, 100))


def fire_report(slack: SlackStandIn, schedule_id: str) -> str:
    message = slack.wait_for(lambda m: m.channel == NOTIFY and schedule_id in m.text and "run of" in m.text.lower())
    return text_of(message)


def test_every_table_of_the_account_is_exported_at_each_fire_including_one_created_later(
    services: Callable[..., Services], slack: SlackStandIn, ddb: Any
) -> None:
    built = services()
    sc = built.schedules
    schedule_id = add_schedule(sc, NewSchedule("*", "0 * * * *"), Requester("U0ALICE")).view.schedule.id
    fire(built, schedule_id, FIRE)
    assert exported_tables(sc, schedule_id) == ["orders"], "customers has PITR off"
    body = fire_report(slack, schedule_id)
    assert body.index("`customers`") < body.index("`orders`"), "failures first"
    assert "1 exports started, 1 failed, 0 queued" in body and "PITR" in body[body.index("`customers`") :]

    create_table(ddb, "invoices", pitr=True, items=[{"pk": {"S": "i#1"}, "sk": {"S": "a"}}])
    fire(built, schedule_id, FIRE + timedelta(hours=1))
    assert exported_tables(sc, schedule_id) == ["invoices", "orders", "orders"], "the new table is covered"
    fire(built, schedule_id, FIRE + timedelta(hours=1))  # the same fire again (a second replica, a retry)
    assert len(exported_tables(sc, schedule_id)) == 3, "nothing started twice"
    tokens = [job.client_token for job in sc.core.store.schedule_exports(schedule_id, 100)]
    assert len(set(tokens)) == 3, "one ClientToken per table and fire"


def test_a_tag_selector_exports_only_the_tagged_tables(
    services: Callable[..., Services], slack: SlackStandIn, ddb: Any
) -> None:
    built = services()
    sc = built.schedules
    create_table(ddb, "ledger", pitr=True, items=[{"pk": {"S": "l#1"}, "sk": {"S": "a"}}])
    for name in ("ledger",):
        arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "backup", "Value": "daily"}])
    orders = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=orders, Tags=[{"Key": "backup", "Value": "weekly"}])
    schedule_id = add_schedule(sc, NewSchedule("tag:backup=daily", "0 * * * *"), Requester("U0ALICE")).view.schedule.id
    fire(built, schedule_id, FIRE)
    assert exported_tables(sc, schedule_id) == ["ledger"]


def test_beyond_the_exports_an_account_may_run_the_rest_waits_and_is_started_once_as_room_frees(
    services: Callable[..., Services], slack: SlackStandIn, ddb: Any
) -> None:
    built = services(exports_per_account=2)
    sc = built.schedules
    for name in ("alpha", "beta", "gamma"):
        create_table(ddb, name, pitr=True, items=[{"pk": {"S": f"{name}#1"}, "sk": {"S": "a"}}])
    ddb.update_continuous_backups(
        TableName="customers", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    schedule_id = add_schedule(sc, NewSchedule("*", "0 * * * *"), Requester("U0ALICE")).view.schedule.id
    with exports_held():  # DynamoDB is still running them
        fire(built, schedule_id, FIRE)
        assert len(exported_tables(sc, schedule_id)) == 2, "two at once"
        assert "2 exports started, 0 failed, 3 queued" in fire_report(slack, schedule_id)
        carry_on(built)
        assert len(exported_tables(sc, schedule_id)) == 2, "no room yet: the first two still run"
        finish_all(sc, schedule_id)
        carry_on(built)
        carry_on(built)
        tables = exported_tables(sc, schedule_id)
        assert len(tables) == 4, "two more started, none twice"
        assert len(set(tables)) == 4
        finish_all(sc, schedule_id)
        carry_on(built)
    assert exported_tables(sc, schedule_id) == ["alpha", "beta", "customers", "gamma", "orders"], "each once"
    later = slack.wait_for(lambda m: m.channel == NOTIFY and "Later:" in text_of(m))
    assert "queued" in text_of(later)


def finish_all(sc: ScheduleCore, schedule_id: str) -> None:
    """What the tracker records when DynamoDB reports the exports finished."""
    for job in sc.core.store.schedule_exports(schedule_id, 100):
        if job.status == ExportStatus.IN_PROGRESS:
            sc.core.store.finish_export(job.export_arn, status=ExportStatus.COMPLETED)


def test_the_digest_names_the_tables_that_lost_or_gained_pitr_since_the_previous_digest(
    services: Callable[..., Services], slack: SlackStandIn, ddb: Any, tmp_path: Path
) -> None:
    config = tmp_path / "digest.toml"
    config.write_text(
        '[digest]\ncron = "0 9 * * *"\n\n[[schedules]]\nid = "nightly"\ntable = "orders"\ncron = "0 2 * * *"\n'
    )
    built = services(config_file=config, coverage_cache_seconds=0)
    sc = built.schedules
    day = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=2)
    sc.core.clock = lambda: day + timedelta(seconds=5)
    fire_digest(sc, lambda: True, "0 9 * * *", "UTC")
    built.work_runner.run_pending()
    first = text_of(slack.wait_for(lambda m: m.channel == NOTIFY and "digest" in m.text.lower()))
    assert "Now without PITR: `customers`" in first

    create_table(ddb, "audit", pitr=False, items=[])
    ddb.update_continuous_backups(
        TableName="customers", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    sc.core.clock = lambda: day + timedelta(days=1, seconds=5)
    fire_digest(sc, lambda: True, "0 9 * * *", "UTC")
    built.work_runner.run_pending()
    second = text_of(
        slack.wait_for(lambda m: m.channel == NOTIFY and "digest" in m.text.lower() and "audit" in text_of(m))
    )
    assert "Newly without PITR: `audit`" in second and "PITR now on (or table gone): `customers`" in second


def test_the_digest_shows_each_tables_last_restore_drill_and_flags_a_failed_one(
    services: Callable[..., Services], slack: SlackStandIn, tmp_path: Path
) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('[[schedules]]\nid = "nightly"\ntable = "orders"\ncron = "0 2 * * *"\n')
    built = services(config_file=config)
    store = DrillStore(built.engine)
    target = ExportTarget("e-1", None, "acme-ddb-backups", None, None, ExportType.FULL, None, "us-east-1", "e-1")
    spec = DrillSpec("orders", None, "us-east-1", target, "orders-drill-202612021200", {}, 3)
    drill = store.create(Drill("d-digest1", spec, "U0ALICE", None), max_active=2)
    assert drill is not None
    claims = ClaimStore(built.engine, stale_after=timedelta(minutes=5), max_attempts=5)
    claim = claims.claim(DRILL, drill.id, "runner-1")
    assert claim is not None
    with claims.fenced(claim) as connection:
        store.finish(drill.id, DrillResult(failure="the sample differs"), connection)
    digest = build_digest(built.schedules, datetime.now(UTC))
    orders = next(t for t in digest.tables if t.table_key == "orders")
    assert "last restore drill failed" in orders.flags
    assert "Last restore drill: failed" in json.dumps(digest_message(digest)["blocks"])


def test_a_fire_queued_before_per_table_results_carries_on_with_its_queued_tables(
    services: Callable[..., Services], slack: SlackStandIn, ddb: Any
) -> None:
    """What migration 0003 left in flight: a started run whose plan note lists its queued tables, and its `fanout`
    work item; the tables become the fire's targets when the work is next taken."""
    built = services()
    sc = built.schedules
    create_table(ddb, "ledger", pitr=True, items=[{"pk": {"S": "l#1"}, "sk": {"S": "a"}}])
    schedule_id = add_schedule(sc, NewSchedule("*", "0 * * * *"), Requester("U0ALICE")).view.schedule.id
    with sc.store.engine.begin() as connection:
        run = sc.store.open_run(connection, schedule_id, FIRE, RunKind.SCHEDULED, "old-replica")
        sc.store.save_plan(run.id, ExportPlan(ExportType.FULL, note='queued:["ledger"]'), connection=connection)
        sc.store.finish_run(run.id, RunState.STARTED, note=False, connection=connection, error="1 queued.")
        enqueue_work(connection, FANOUT, str(run.id))
    built.work_runner.run_pending()
    assert exported_tables(sc, schedule_id) == ["ledger"], "only the table it had queued"
    later = slack.wait_for(lambda m: m.channel == NOTIFY and "Later:" in text_of(m))
    assert "`ledger`: export" in text_of(later)


def test_a_table_the_survey_cannot_read_is_named_in_the_digest_and_never_called_fixed(
    services: Callable[..., Services], slack: SlackStandIn, world: str, tmp_path: Path, monkeypatch: Any
) -> None:
    """Partial failure in the survey behind the digest: `customers` lacked PITR at the last digest and cannot be
    read now (DescribeTable denied), and `orders` gets an answer that makes no sense. The digest is still posted, says
    what was not read, does not say `customers`' PITR was turned on, and the next digest that reads it again does not
    call it newly without PITR."""
    denied: set[str] = set()
    garbled: set[str] = set()

    def decide(operation: str, body: bytes) -> Fault | None:
        table = json.loads(body or b"{}").get("TableName")
        if operation == "DescribeTable" and table in denied:
            return Fault(400, "AccessDeniedException", f"not authorized to perform: dynamodb:DescribeTable on {table}")
        if operation == "DescribeTable" and table in garbled:
            return Fault(200, "NotADynamoDbAnswer", "a proxy's page")  # no `Table`: an answer that makes no sense
        return None

    config = tmp_path / "digest.toml"
    config.write_text(
        '[digest]\ncron = "0 9 * * *"\n\n[[schedules]]\nid = "nightly"\ntable = "orders"\ncron = "0 2 * * *"\n'
    )
    with AwsFaultProxy(world, decide) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
        built = services(config_file=config, coverage_cache_seconds=0)
        sc = built.schedules
        day = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=3)

        def digest_on(days: int, needle: str) -> str:
            sc.core.clock = lambda: day + timedelta(days=days, seconds=5)
            fire_digest(sc, lambda: True, "0 9 * * *", "UTC")
            built.work_runner.run_pending()
            when = (day + timedelta(days=days)).date().isoformat()
            found = slack.wait_for(lambda m: m.channel == NOTIFY and when in text_of(m) and needle in text_of(m))
            return text_of(found)

        assert "Now without PITR: `customers`" in digest_on(0, "digest")
        denied.add("customers")
        garbled.add("orders")
        second = digest_on(1, "Not read")
        not_read = second[second.index("Not read, so not compared:") :].split("\\n", 1)[0]
        assert "`customers`" in not_read and "`orders`" in not_read, not_read
        assert "PITR now on" not in second, "a table not read is not called fixed"
        assert "something went wrong reading it (reference" in second, "one table's odd answer: that table's line"
        denied.clear()
        garbled.clear()
        third = digest_on(2, "digest")
        assert "without PITR" not in third and "PITR now on" not in third, "nothing changed since it was last seen"
