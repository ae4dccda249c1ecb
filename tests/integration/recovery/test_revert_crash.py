"""A revert whose worker dies mid-way (after a batch was written, before or after its outcomes were recorded) is
taken over by a fresh replica once its claim is stale, finishes, and writes no item twice: the stand-ins' history
holds at most one write per key after the approval, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.demo.aws.clock import micros
from bot.demo.aws.standins import AwsStandIns
from bot.demo.slack_standin import SlackStandIn
from bot.models import Requester
from bot.recovery.asks import WindowAsk
from bot.recovery.models import State
from bot.recovery.store import PREPARATION
from bot.restores.models import RestoreStatus
from bot.restores.store import RESTORE
from bot.wiring.services import Services
from tests.integration.recovery.conftest import BUCKET, TABLE, TESTING, ShiftedClock, create_orders, order
from tests.support.aws_world import client
from tests.support.crashes import Cluster, Crash, CrashAt
from tests.support.databases import database_kinds, fresh_database
from tests.support.restore_flow import APPROVER, REQUESTER, RESTORE_SETTINGS
from tests.support.schedules import wait_until

CHANGED = [f"K-{n:03d}" for n in range(150)]  # two batches of conditional writes
LATER = "K-007"  # changed again after the window: a conflict


@pytest.fixture
def seeded(aws: AwsStandIns, clock: ShiftedClock) -> None:
    ddb = client("dynamodb", aws.url, **TESTING)
    clock.at(timedelta(minutes=100))
    create_orders(aws, ddb)
    clock.at(timedelta(minutes=95))
    for pk in CHANGED:
        ddb.put_item(TableName=TABLE, Item=order(pk, v="good"))
    clock.at(timedelta(minutes=80))
    for pk in CHANGED:
        ddb.put_item(TableName=TABLE, Item=order(pk, v="bad"))
    clock.at(timedelta(minutes=30))
    ddb.put_item(TableName=TABLE, Item=order(LATER, v="fixed by hand"))
    clock.at(timedelta(0))


@pytest.fixture(params=database_kinds())
def cluster(request: pytest.FixtureRequest, seeded: None, tmp_path: Path) -> Iterator[Cluster]:
    with SlackStandIn() as slack, fresh_database(request.param, tmp_path) as url:
        made = Cluster(url, slack, tmp_path, {"work_max_attempts": 3, **RESTORE_SETTINGS, "export_bucket": BUCKET})
        yield made
        made.close()


def prepare_and_approve(cluster: Cluster, replica: Services) -> str:
    """/ddb-revert's use case, its preparation run to the request (the database's clock moved on while the exports
    run, so their deferred work comes due), and a second person's approval."""
    ask = WindowAsk(TABLE, replica.core.clock() - timedelta(minutes=90), replica.core.clock() - timedelta(minutes=60))
    started = replica.recoveries.revert(ask, Requester(REQUESTER, "C0OPS"))
    store = replica.recoveries.store

    def requested() -> str | None:
        cluster.clock.advance(seconds=1)
        replica.work_runner.run_pending([PREPARATION])
        found = store.get(started.preparation.id)
        assert found is not None and found.state != State.FAILED, found
        return found.request_id if found.state == State.REQUESTED else None

    request_id: str = wait_until(requested, "the revert's request", timeout=60)
    request = replica.restores.store.get(request_id)
    assert request is not None
    replica.restores.approve(request.button_value, APPROVER)
    return request_id


@pytest.mark.parametrize("step", ["aws_called", "recorded"])
def test_a_revert_whose_worker_dies_mid_way_is_finished_by_a_fresh_replica_writing_nothing_twice(
    cluster: Cluster, aws: AwsStandIns, step: str
) -> None:
    dying = cluster.replica(CrashAt(RESTORE, step))
    request_id = prepare_and_approve(cluster, dying)
    approved_at = micros(dying.core.clock())
    with pytest.raises(Crash):
        dying.work_runner.run_pending([RESTORE])
    written_before = sum(1 for c in aws.timeline(TABLE).changes() if c.micros >= approved_at)
    assert written_before > 0, "the dying worker wrote before it died"

    taker = cluster.replica()
    cluster.stale()
    assert taker.work_runner.run_pending([RESTORE]) == 1
    finished = taker.restores.store.get(request_id)
    assert finished is not None and finished.status == RestoreStatus.PARTIAL, finished  # the one conflict

    writes = Counter(str(c.keys["pk"]["S"]) for c in aws.timeline(TABLE).changes() if c.micros >= approved_at)
    assert writes and max(writes.values()) == 1, f"keys written twice: {[k for k, n in writes.items() if n > 1][:10]}"
    assert set(writes) == set(CHANGED) - {LATER}
    ddb = client("dynamodb", aws.url, **TESTING)
    for pk in CHANGED:
        expected = order(pk, v="fixed by hand") if pk == LATER else order(pk, v="good")
        assert ddb.get_item(TableName=TABLE, Key=order(pk), ConsistentRead=True)["Item"] == expected, pk
    details = finished.result["details"]
    assert details["conflicts"] == 1 and finished.result["items_written"] + details["unchanged"] == len(CHANGED) - 1
