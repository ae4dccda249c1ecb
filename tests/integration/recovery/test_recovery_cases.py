"""The recovery use cases against the stand-ins, beyond the main flow: refusals said before anything starts, a
`where=` filter, the state older than the PITR window read from the bot's own exports (said as of the moment they
reach), and Restore this version turning an answer into a request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.background.notes import NOTE
from bot.catalog.service import restore_chain, table_listing
from bot.demo.aws.standins import AwsStandIns
from bot.demo.slack_standin import SlackStandIn
from bot.errors import BotError, NotAllowed, PreconditionFailed
from bot.exports.start import ExportOptions, start_export
from bot.models import Requester
from bot.recovery.asks import KeyAsk, WindowAsk
from bot.recovery.models import Kind, Source, State
from bot.recovery.store import PREPARATION, recovery_actions
from bot.restores.models import RestoreStatus
from bot.restores.store import RESTORE
from bot.wiring.bootstrap import build_services
from bot.wiring.services import Services
from tests.integration.conftest import bot_settings
from tests.integration.recovery.conftest import BUCKET, TABLE, TESTING, ShiftedClock, create_orders, order
from tests.support.aws_world import client
from tests.support.restore_flow import OUTSIDER, REQUESTER, RESTORE_SETTINGS
from tests.support.schedules import wait_until

ASKER = Requester(REQUESTER, "C0OPS")


@pytest.fixture
def ddb(aws: AwsStandIns) -> Any:
    return client("dynamodb", aws.url, **TESTING)


@pytest.fixture
def table(aws: AwsStandIns, ddb: Any, clock: ShiftedClock) -> None:
    """orders, PITR on 3 hours ago; A-1 changed at -160m and -100m; tagged items changed in a window -80m..-65m."""
    clock.at(timedelta(minutes=180))
    create_orders(aws, ddb)
    clock.at(timedelta(minutes=175))
    ddb.put_item(TableName=TABLE, Item=order("A-1", v="first"))
    for n in range(4):
        ddb.put_item(TableName=TABLE, Item=order(f"T-{n}", v="good", deploy="v1"))
    clock.at(timedelta(minutes=160))
    ddb.put_item(TableName=TABLE, Item=order("A-1", v="second"))
    clock.at(timedelta(minutes=100))
    ddb.put_item(TableName=TABLE, Item=order("A-1", v="third"))
    clock.at(timedelta(minutes=75))
    for n in range(4):
        ddb.put_item(TableName=TABLE, Item=order(f"T-{n}", v="bad", deploy="v2" if n < 2 else "v1"))
    clock.at(timedelta(0))


@pytest.fixture
def replica(table: None, tmp_path: Path) -> Iterator[Services]:
    """The bot's own wiring, not started: the test runs its work (claims on the database's real clock)."""
    with SlackStandIn() as slack:
        settings = bot_settings(tmp_path, slack, **RESTORE_SETTINGS, export_bucket=BUCKET, operators=[REQUESTER])
        services = build_services(settings)
        yield services
        services.engine.dispose()


def finish(replica: Services, preparation_id: str) -> Any:
    """Run the preparation's claimed work until it ends (the clock of the claims is the database's: real time)."""

    def ended() -> Any:
        replica.work_runner.run_pending([PREPARATION])
        found = replica.recoveries.store.get(preparation_id)
        return found if found is not None and found.state != State.EXPORTING else None

    return wait_until(ended, f"preparation {preparation_id}", timeout=60)


def test_refusals_are_said_before_anything_starts(replica: Services, clock: ShiftedClock, ddb: Any) -> None:
    now = replica.core.clock()
    recoveries = replica.recoveries
    cases: list[tuple[Any, str]] = [
        (lambda: recoveries.revert(WindowAsk(TABLE, now - timedelta(minutes=20), now - timedelta(minutes=10)), ASKER),
         "at least 15 minutes"),
        (lambda: recoveries.revert(WindowAsk(TABLE, now - timedelta(minutes=30), now), ASKER), "outside the PITR"),
        (lambda: recoveries.revert(WindowAsk(TABLE, now - timedelta(hours=5), now - timedelta(hours=4)), ASKER),
         "outside the PITR"),
        (lambda: recoveries.revert(WindowAsk(TABLE, now - timedelta(minutes=90), now - timedelta(minutes=60),
                                             where="deploy = $x"), ASKER), "cannot be read"),
        (lambda: recoveries.revert(WindowAsk(TABLE, now - timedelta(minutes=90), now - timedelta(minutes=60),
                                             where="nosuch("), ASKER), "DynamoDB refused the export's filter"),
        (lambda: recoveries.look_up(KeyAsk(TABLE, (("sk", "1"),), now - timedelta(hours=1)), ASKER),
         "Give the partition key `pk=`"),
        (lambda: recoveries.look_up(KeyAsk(TABLE, (("pk", "A-1"),), now - timedelta(hours=5)), ASKER),
         "no finished export the bot knows"),
        (lambda: recoveries.look_up(KeyAsk(TABLE, (("pk", "A-1"),), now - timedelta(minutes=1)), ASKER),
         "after the latest time DynamoDB can export"),
        (lambda: recoveries.look_up(KeyAsk(TABLE, (("pk", "A-1"),), now - timedelta(hours=1)), Requester(OUTSIDER)),
         "operator"),
    ]  # fmt: skip
    for ask, message in cases:
        with pytest.raises(BotError) as raised:
            ask()
        assert message in str(raised.value), (message, str(raised.value))
    assert replica.recoveries.store.in_state(State.EXPORTING) == []


def test_where_narrows_a_revert_to_the_items_the_filter_selects(replica: Services) -> None:
    now = replica.core.clock()
    ask = WindowAsk(TABLE, now - timedelta(minutes=90), now - timedelta(minutes=60), where="deploy = 'v2'")
    started = replica.recoveries.revert(ask, ASKER)
    done = finish(replica, started.preparation.id)
    assert done.state == State.REQUESTED, done.failure
    assert done.counts.puts == 2 and done.counts.total == 2  # T-0 and T-1 only
    keys = [a.key_text for a in replica.recoveries.store.actions(done.id)]
    assert keys == ["pk=T-0, sk=1", "pk=T-1, sk=1"]


def test_an_item_older_than_the_pitr_window_comes_from_the_bot_s_exports_as_of_where_they_reach(
    replica: Services, clock: ShiftedClock, ddb: Any, aws: AwsStandIns
) -> None:
    now = replica.core.clock()
    full = start_export(replica.core, TABLE, ExportOptions(at=now - timedelta(minutes=170)), ASKER).job
    window = ExportOptions(since=now - timedelta(minutes=170), until=now - timedelta(minutes=150))
    incremental = start_export(replica.core, TABLE, window, ASKER).job
    for job in (full, incremental):  # the stand-in finishes an export once it was described (ListExports does not)
        wait_until(lambda job=job: ddb.describe_export(ExportArn=job.export_arn)["ExportDescription"]["ExportStatus"]
                   == "COMPLETED", "the export to finish")  # fmt: skip
    wait_until(lambda: not replica.tracker.run_cycle().checked or None, "the bot to record them", timeout=60)
    ddb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    ddb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    started = replica.recoveries.look_up(
        KeyAsk(TABLE, (("pk", "A-1"), ("sk", "1")), now - timedelta(minutes=140)), ASKER
    )
    assert started.preparation.source == Source.EXPORTS
    assert started.preparation.as_of == incremental.export_to
    assert [e.arn for e in started.preparation.exports] == [full.export_arn, incremental.export_arn]
    assert any("older than DynamoDB can export" in line and "on one core" in line for line in started.lines)
    done = finish(replica, started.preparation.id)
    assert done.state == State.ANSWERED, done.failure
    (action,) = replica.recoveries.store.actions(done.id)
    assert action.target == order("A-1", v="second") and action.expected == order("A-1", v="third")


def test_restore_this_version_turns_the_answer_into_a_request(replica: Services, ddb: Any) -> None:
    now = replica.core.clock()
    started = replica.recoveries.look_up(KeyAsk(TABLE, (("pk", "A-1"),), now - timedelta(minutes=120)), ASKER)
    answered = finish(replica, started.preparation.id)
    assert answered.state == State.ANSWERED and answered.kind == Kind.ITEM
    (coverage,) = [t for t in replica.coverage.report().tables if t.key == TABLE]
    assert coverage.last_export is None, "a partition's export counted as the table's backup"
    partition = {e.export_id for e in answered.exports}
    listing = table_listing(replica.catalogue, TABLE)  # discovery reads the partition export's summary, as any
    arn = ddb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    assert partition <= {e.export_id for e in replica.catalogue.store.entries(arn)}, "discovery did not see it"
    assert partition.isdisjoint(e.export_id for e in listing.entries), "a partition's export listed as a backup"
    assert restore_chain(replica.catalogue, TABLE, now).chain.full is None, "a restore would bring back a partition"
    replica.work_runner.run_pending([NOTE])  # the answer is delivered: its item contents are dropped
    assert all(a.target is None and a.expected is None for a in replica.recoveries.store.actions(answered.id))
    with pytest.raises(NotAllowed, match="operator"):
        replica.recoveries.restore_version(answered.id, Requester(OUTSIDER))
    again = replica.recoveries.restore_version(answered.id, ASKER)
    assert again.preparation.kind == Kind.RECOVER and again.preparation.exports == answered.exports
    requested = finish(replica, again.preparation.id)
    assert requested.state == State.REQUESTED and requested.request_id
    request = replica.restores.store.get(requested.request_id)
    assert request is not None and request.mode == "recover"
    with pytest.raises(PreconditionFailed, match="no answer to restore from"):
        replica.recoveries.restore_version(again.preparation.id, ASKER)


def test_a_repair_whose_prepared_writes_changed_after_approval_writes_nothing(replica: Services, ddb: Any) -> None:
    now = replica.core.clock()
    ask = WindowAsk(TABLE, now - timedelta(minutes=90), now - timedelta(minutes=60))
    done = finish(replica, replica.recoveries.revert(ask, ASKER).preparation.id)
    assert done.request_id is not None
    request = replica.restores.store.get(done.request_id)
    assert request is not None
    replica.restores.approve(request.button_value, "U0BOB")
    with replica.engine.begin() as connection:  # someone edits what will be written, after the approval
        connection.execute(
            update(recovery_actions)
            .where(recovery_actions.c.preparation_id == done.id, recovery_actions.c.seq == 0)
            .values(target=order("T-0", v="tampered"))
        )
    replica.work_runner.run_pending([RESTORE])
    ended = replica.restores.store.get(request.id)
    assert ended is not None and ended.status == RestoreStatus.FAILED
    assert "no longer match the approved plan" in (ended.failure_message or "")
    assert ddb.get_item(TableName=TABLE, Key=order("T-0"), ConsistentRead=True)["Item"]["v"] == {"S": "bad"}
