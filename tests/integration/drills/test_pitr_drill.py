"""`/ddb-drill <table> from=pitr` through the running bot with moto: the table restored to a point in time into a
tagged throwaway table, proved, timed and deleted; moments outside the PITR window and tables without PITR refused
saying why; compared item for item with the export of that very moment when the bot made one; a schema that differs
fails the drill; a replica that dies after asking for the restore leaves it to the next, which restores nothing twice.

moto's RestoreTableToPointInTime copies the source's items and schema as they are now, whatever the time asked
(moto's docstring says so), and its PITR window stays where it was when PITR was turned on (tests move it with
`set_pitr_window`). So "restored as of a moment" is shown as "restored from the source", which a drill of a table
that has not changed since that moment cannot tell apart; a drill of a past state that differs from today's is
beyond what moto can show, and the comparison it would need is the export drill's, tested with exports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bot.demo.slack_standin import SlackStandIn
from bot.drills.models import DrillStatus
from bot.drills.service import DrillRequest, queue_drill
from bot.drills.store import DRILL, DrillStore
from bot.errors import PreconditionFailed
from bot.models import ExportJob, Requester
from bot.timefmt import iso
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import NOTIFY
from tests.integration.drills.test_drill import OPERATOR, completed_export, drill_tables, result_in
from tests.support.aws_world import DEFAULT_ACCOUNT, order_items, set_pitr_window
from tests.support.crashes import Cluster, CrashAt, die_and_take_over
from tests.support.databases import database_kinds, fresh_database
from tests.support.export_fixtures import write_full_export
from tests.support.schedules import schedule_command, text_of
from tests.support.slack_requests import SignedSlackClient

OPS = "C0OPS"
ORDERS = 3  # the world's orders table
STEPS = ["claimed", "aws_called", "recorded", "finishing"]


class RestoreLedger:
    """Counts RestoreTableToPointInTime calls that reached moto (in this process, where the test's server runs)."""

    def __init__(self) -> None:
        self.restores: list[str] = []


@pytest.fixture
def restores(monkeypatch: pytest.MonkeyPatch) -> RestoreLedger:
    from moto.dynamodb.models import DynamoDBBackend

    ledger = RestoreLedger()
    original = DynamoDBBackend.restore_table_to_point_in_time

    def counted(self: Any, target_table_name: str, source_table_name: str) -> Any:
        ledger.restores.append(target_table_name)
        return original(self, target_table_name, source_table_name)

    monkeypatch.setattr(DynamoDBBackend, "restore_table_to_point_in_time", counted)
    return ledger


def ask(signed: SignedSlackClient, slack: SlackStandIn, text: str, channel: str = OPS) -> None:
    response = signed.command("/ddb-drill", text, user_id=OPERATOR, response_url=slack.response_url(channel))
    assert response.status == 200, response.body


def answer(signed: SignedSlackClient, slack: SlackStandIn, text: str, channel: str) -> str:
    """The bot's answer to a /ddb-drill that it refuses after looking at AWS."""
    ask(signed, slack, text, channel)
    return text_of(slack.wait_for(lambda m: m.channel == channel and "Nothing was started" in text_of(m)))


def moto_window(ddb: Any, table: str = "orders") -> tuple[datetime, datetime]:
    pitr = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    described = pitr["PointInTimeRecoveryDescription"]
    return described["EarliestRestorableDateTime"], described["LatestRestorableDateTime"]


def test_a_pitr_drill_passes_and_deletes_its_table(
    drill_bot: BotRuntime,
    signed: SignedSlackClient,
    slack: SlackStandIn,
    ddb: Any,
    restores: RestoreLedger,
) -> None:
    _, latest = moto_window(ddb)
    ask(signed, slack, "orders from=pitr rto=1h")
    plan = text_of(slack.wait_for(lambda m: m.channel == OPS and "queued" in m.text))
    assert "point-in-time recovery" in plan and iso(latest) in plan and "no export of that moment" in plan

    result = result_in(slack, OPS)
    shown = text_of(result)
    assert "passed" in result.text, shown[:2000]
    assert f"PITR at <!date^{int(latest.timestamp())}^" in shown and iso(latest) in shown
    assert f"Items: {ORDERS} counted in the drill table; no export of that moment to compare them with" in shown
    assert "Sample compared: none (no export of that moment)" in shown and "(target 1h 00m)" in shown
    assert "Drill table deleted." in shown
    assert "passed" in result_in(slack, NOTIFY).text
    (stored,) = DrillStore(drill_bot.services.engine).history("orders")
    assert stored.status == DrillStatus.PASSED and stored.spec.pitr_at == latest and stored.spec.export is None
    assert stored.result.items_imported == ORDERS and stored.result.deleted
    assert restores.restores == [stored.spec.drill_table], "one restore, into the drill table"
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        ddb.describe_table(TableName=stored.spec.drill_table)
    assert drill_tables(ddb) == []


def test_a_moment_outside_the_pitr_window_is_refused_naming_the_window(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, restores: RestoreLedger
) -> None:
    earliest, latest = moto_window(ddb)
    refused = answer(signed, slack, "orders from=pitr at=2020-01-01T00:00:00Z", "early")
    assert "`at=2020-01-01T00:00:00Z` is outside the PITR window of `orders`" in refused
    assert f"({iso(earliest)} to {iso(latest)})" in refused and "Pick a time inside that window" in refused
    assert restores.restores == [] and DrillStore(drill_bot.services.engine).history("orders") == []


def test_a_table_without_pitr_is_refused_saying_how_to_turn_it_on(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, restores: RestoreLedger
) -> None:
    refused = answer(signed, slack, "customers from=pitr", "off")
    assert "Point-in-time recovery is off for `customers`" in refused
    assert "/ddb-pitr customers enable" in refused
    assert restores.restores == [] and DrillStore(drill_bot.services.engine).history("customers") == []


def test_a_pitr_drill_options_are_checked_before_anything_runs(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    for text, said in [
        ("orders at=-2h", "`at=` picks a point in time: add `from=pitr`"),
        ("orders from=pitr export=01768385930622-efd1a093", "leave it out with `from=pitr`"),
        ("orders from=pitr at=-1h random=7d", "not both"),
        ("orders from=pitr at=yesterday", "`at=yesterday` is not a time"),
        ("orders from=backup", "`from=` is `export` or `pitr`, not `backup`"),
    ]:
        response = signed.command("/ddb-drill", text, user_id=OPERATOR, response_url=slack.response_url("x"))
        assert said in response.body, (text, response.body)
    assert DrillStore(drill_bot.services.engine).history("orders") == []


def lay_out_orders(s3: Any, job: ExportJob) -> None:
    """The export's files holding exactly what the world's orders table holds (what moto's restore copies)."""
    write_full_export(
        s3, job.bucket, job.s3_prefix, order_items(ORDERS), export_id=job.export_id, table_name="orders", empty_files=0
    )


def export_of_the_moment(bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any) -> ExportJob:
    """A completed export of orders as of an hour ago, inside a PITR window moved as AWS's moves (moto's stays
    where PITR was turned on, and its exports carry no ExportTime: `at=` gives the bot the export's time)."""
    now = datetime.now(UTC).replace(microsecond=0)
    set_pitr_window(DEFAULT_ACCOUNT, "orders", now - timedelta(days=1), now)
    job = completed_export(bot, signed, slack, s3, lay_out_orders, f"orders at={iso(now - timedelta(hours=1))}")
    assert job.export_time == now - timedelta(hours=1)
    return job


def test_a_pitr_drill_of_an_exports_moment_compares_its_count_and_sample_with_that_export(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any, ddb: Any
) -> None:
    job = export_of_the_moment(drill_bot, signed, slack, s3)
    assert job.export_time is not None
    ask(signed, slack, f"orders from=pitr at={iso(job.export_time)}")

    result = result_in(slack, OPS)
    shown = text_of(result)
    assert "passed" in result.text, shown[:2000]
    assert f"Items: {ORDERS} counted in the drill table of {ORDERS} in export `{job.export_id}`" in shown
    assert f"Sample compared: {ORDERS} items, 0 different" in shown
    (stored,) = DrillStore(drill_bot.services.engine).history("orders")
    assert stored.spec.export is not None and stored.spec.export.export_id == job.export_id
    assert stored.result.compared_with == job.export_id and stored.result.sample_compared == ORDERS
    assert drill_tables(ddb) == []


def test_a_pitr_drill_whose_restored_indexes_differ_from_the_moments_schema_fails_and_deletes_its_table(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any, ddb: Any
) -> None:
    job = export_of_the_moment(drill_bot, signed, slack, s3)
    assert job.export_time is not None
    ddb.update_table(  # after the export: moto's restore copies today's indexes, not that moment's
        TableName="orders",
        AttributeDefinitions=[  # all of them: moto keeps only the definitions given
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "status")
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-status",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    ask(signed, slack, f"orders from=pitr at={iso(job.export_time)}")

    result = result_in(slack, OPS)
    shown = text_of(result)
    assert "failed" in result.text
    assert "global secondary indexes differ from the source" in shown, shown[:2000]
    assert "Drill table deleted." in shown
    (stored,) = DrillStore(drill_bot.services.engine).history("orders")
    assert stored.status == DrillStatus.FAILED and stored.result.deleted
    assert drill_tables(ddb) == []


def test_a_scheduled_pitr_drill_restores_a_moment_drawn_within_its_range_and_says_so(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    now = datetime.now(UTC)
    set_pitr_window(DEFAULT_ACCOUNT, "orders", now - timedelta(days=3), now - timedelta(minutes=5))
    added = text_of(schedule_command(signed, slack, 'add orders cron="0 6 * * 1" type=drill from=pitr random=1d'))
    schedule_id = added.split("Schedule `", 1)[1].split("`", 1)[0]
    text_of(schedule_command(signed, slack, f"run {schedule_id}"))

    result = result_in(slack, NOTIFY)
    shown = text_of(result)
    assert "passed" in result.text, shown[:2000]
    (stored,) = DrillStore(drill_bot.services.engine).history("orders")
    moment = stored.spec.pitr_at
    assert moment is not None and now - timedelta(days=1) <= moment <= now - timedelta(minutes=5)
    assert stored.spec.random_seconds == 86400
    assert f"PITR at <!date^{int(moment.timestamp())}^" in shown and "picked at random within the last 24h 00m" in shown
    assert drill_tables(ddb) == []


def test_a_drill_schedule_refuses_random_without_pitr_saying_how(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    refused = text_of(schedule_command(signed, slack, 'add orders cron="0 6 * * 1" type=drill random=7d'))
    assert "add `from=pitr`" in refused
    refused = text_of(schedule_command(signed, slack, 'add orders cron="0 6 * * 1" type=drill from=tape'))
    assert "`from=` is `export` or `pitr`, not `tape`" in refused
    assert drill_bot.services.schedules.store.all() == []


# ------------------------------------------------------------------------------------------------- crashes


@pytest.fixture(params=database_kinds())
def cluster(request: pytest.FixtureRequest, world: str, slack: SlackStandIn, tmp_path: Path) -> Iterator[Cluster]:
    with fresh_database(request.param, tmp_path) as url:
        made = Cluster(url, slack, tmp_path, {"work_max_attempts": 3})
        yield made
        made.close()


@pytest.mark.parametrize("step", STEPS)
def test_a_pitr_drill_whose_replica_dies_at_any_step_restores_once_passes_and_is_reported_once(
    cluster: Cluster, slack: SlackStandIn, ddb: Any, restores: RestoreLedger, step: str
) -> None:
    dying = cluster.replica(CrashAt(DRILL, step), operators=[OPERATOR])
    queued = queue_drill(dying.drills, DrillRequest("orders", from_pitr=True), Requester(OPERATOR, OPS)).drill
    taker = die_and_take_over(cluster, dying, DRILL, operators=[OPERATOR])

    done = DrillStore(taker.engine).get(queued.id)
    assert done is not None and done.status == DrillStatus.PASSED, done
    assert restores.restores == [queued.spec.drill_table], "RestoreTableToPointInTime asked once"
    assert done.result.items_imported == ORDERS and done.result.deleted
    assert drill_tables(ddb) == [], "its table deleted"
    posted = [m for m in slack.messages(OPS) if "Restore drill of" in m.text and queued.id in json.dumps(m.blocks)]
    assert len(posted) == 1, "the result posted once"


def test_a_second_drill_of_a_table_in_the_same_minute_is_refused_its_table_name_being_the_firsts(
    cluster: Cluster, restores: RestoreLedger
) -> None:
    replica = cluster.replica(operators=[OPERATOR])
    minute = datetime.now(UTC).replace(second=30, microsecond=0)
    drills = replace(replica.drills, core=replace(replica.drills.core, clock=lambda: minute))
    asker = Requester(OPERATOR, OPS)
    first = queue_drill(drills, DrillRequest("orders", from_pitr=True), asker).drill

    with pytest.raises(PreconditionFailed, match="Another drill of `orders` this minute already has the drill table"):
        queue_drill(drills, DrillRequest("orders", from_pitr=True), asker)
    again = queue_drill(drills, DrillRequest("orders", from_pitr=True, drill_id=first.id), asker).drill
    assert again.id == first.id, "a fire asked again finds its own drill"
    assert [d.id for d in DrillStore(replica.engine).history("orders")] == [first.id]
    assert restores.restores == []
