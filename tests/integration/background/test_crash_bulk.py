"""Crash anywhere, bulk put: the replica running an `into=` restore on DynamoDB's bulk put dies at each step (after
the claim, after StartBulkPutItems answered and before its ARN was recorded, with the ARN recorded while the operation
is still running, inside the final transaction), on SQLite and on PostgreSQL; another replica takes the restore over
once the claim is stale, finds the operation again (its recorded ARN, or Start asked again with the same ClientToken)
and follows it to its end: one operation, every item, one report.

AWS is the stand-ins' front (bot/demo/aws) before moto; Slack is the stand-in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.background.claims import WorkState
from bot.background.notes import NOTE
from bot.demo.aws.standins import AwsStandIns, start_standins
from bot.demo.slack_standin import SlackStandIn
from bot.models import Requester
from bot.restores.models import RestoreMode, RestoreStatus
from bot.restores.plans import RestoreSpec
from bot.restores.store import RESTORE, RestoreStore
from bot.wiring.services import Services
from tests.support.crashes import Cluster, Crash, CrashAt
from tests.support.databases import database_kinds, fresh_database
from tests.support.export_fixtures import decoded, key_of, sample_items, write_full_export
from tests.support.restore_flow import APPROVALS, APPROVER, OPS, REQUESTER, RESTORE_SETTINGS, create_staging, staged

BUCKET = "acme-ddb-backups"
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
ITEMS = list(sample_items(50, seed=11))


@pytest.fixture
def aws(world: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStandIns]:
    with start_standins(world) as standins:
        monkeypatch.setenv("AWS_ENDPOINT_URL", standins.url)
        yield standins


@pytest.fixture(params=database_kinds())
def cluster(request: pytest.FixtureRequest, aws: AwsStandIns, slack: SlackStandIn, tmp_path: Path) -> Iterator[Cluster]:
    with fresh_database(request.param, tmp_path) as url:
        made = Cluster(url, slack, tmp_path, {"work_max_attempts": 3, **RESTORE_SETTINGS})
        yield made
        made.close()


def approved_bulk_restore(replica: Services, ddb: Any, s3: Any) -> str:
    """A full export asked into an existing table (bulk put applies) and approved: queued as claimed work."""
    export = write_full_export(s3, BUCKET, "external", ITEMS, files=3, empty_files=0, export_time=T0)
    create_staging(ddb)
    spec = RestoreSpec(RestoreMode.LOAD, (export.url,), "staging")
    requested = replica.restores.request(spec, Requester(REQUESTER, OPS))
    assert requested.request.plan.options.as_dict()["engine"] == "bulk"
    assert replica.restores.approve(requested.request.button_value, APPROVER).outcome == "approved"
    return requested.request.id


@pytest.mark.parametrize("step", ["claimed", "aws_called", "recorded", "finishing"])
def test_a_replica_dying_during_a_bulk_put_is_replaced_by_one_that_follows_the_operation_to_its_end(
    cluster: Cluster, aws: AwsStandIns, slack: SlackStandIn, ddb: Any, s3: Any, step: str
) -> None:
    dying = cluster.replica(CrashAt(RESTORE, step))
    request_id = approved_bulk_restore(dying, ddb, s3)
    if step != "finishing":
        aws.bulk.hold.pause_after(10)  # the operation is still running when the replica dies
    with pytest.raises(Crash):
        dying.work_runner.run_pending([RESTORE])
    aws.bulk.hold.resume()

    taker = cluster.replica()
    assert taker.work_runner.run_pending([RESTORE]) == 0, "a live claim is not taken over"
    cluster.stale()
    assert taker.work_runner.run_pending([RESTORE]) == 1
    taker.work_runner.run_pending([NOTE])

    request = RestoreStore(taker.engine).get(request_id)
    assert request is not None and request.status == RestoreStatus.SUCCEEDED, request
    operations = aws.bulk.operations()
    assert len(operations) == 1, "one bulk operation, found again by its ARN or its ClientToken"
    assert request.aws_ref == operations[0].arn
    assert staged(ddb) == {key_of(i): decoded(i) for i in ITEMS}, "every item, once"
    reports = [m for m in slack.messages(APPROVALS) if request_id in m.text and "finished" in m.text]
    assert len(reports) == 1, "the result posted once"
    claim = taker.work_runner.keeper.store.get(RESTORE, request_id)
    assert claim is not None and claim.state == WorkState.DONE and claim.attempts == 2
