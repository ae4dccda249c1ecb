"""Crash anywhere: for each kind of background work, the replica doing it dies at each step (after the claim, after the
AWS or Slack call answered and before its answer was recorded, after recording it, inside the final transaction),
on SQLite and on PostgreSQL; a fresh replica takes the work over once the claim is stale, and what people check
shows the work done exactly once, or reported as failed (on-call told for what a schedule was meant to back up):
never dropped.

Replicas are the bot's own wiring on one database; AWS is moto with ClientToken honoured as AWS documents it
(tests/support/client_tokens.py); Slack is the stand-in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.background.claims import WorkState
from bot.background.notes import NOTE
from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.drills.models import DrillStatus
from bot.drills.service import DrillRequest, queue_drill
from bot.drills.store import DRILL, DrillStore
from bot.exports.start import ExportOptions, start_export
from bot.metrics import REGISTRY
from bot.models import ExportJob, ExportStatus, Requester
from bot.restores.models import RestoreMode, RestoreStatus
from bot.restores.plans import RestoreSpec
from bot.restores.store import RESTORE, RestoreStore
from bot.schedules.fanout import FANOUT
from bot.schedules.fires import FIRE
from bot.schedules.models import RunState
from bot.schedules.runs import run_schedule
from bot.schedules.service import NewSchedule, add_schedule
from bot.verification.models import VerificationStatus
from bot.verification.service import queue_verification
from bot.verification.store import VERIFICATION, VerificationStore
from bot.wiring.services import Services
from tests.integration.conftest import NOTIFY
from tests.integration.drills.test_drill import ITEMS, lay_out
from tests.support.aws_world import create_table, exports_held
from tests.support.client_tokens import TokenLedger, client_tokens_honoured
from tests.support.crashes import FOREVER, Cluster, Crash, CrashAt, die_and_take_over
from tests.support.databases import database_kinds, fresh_database
from tests.support.export_fixtures import write_full_export
from tests.support.import_standin import aws_import_table
from tests.support.restore_flow import APPROVALS, APPROVER, OPS, REQUESTER, RESTORE_SETTINGS, scan_all
from tests.support.schedules import text_of, wait_until

ONCALL = "S0ONCALL"
BUCKET = "acme-ddb-backups"
FIRE_TIME = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
EXPORT_STEPS = ["claimed", "aws_called", "recorded", "finishing"]


@pytest.fixture(params=database_kinds())
def cluster(request: pytest.FixtureRequest, world: str, slack: SlackStandIn, tmp_path: Path) -> Iterator[Cluster]:
    with fresh_database(request.param, tmp_path) as url:
        made = Cluster(url, slack, tmp_path, {"oncall": ONCALL, "work_max_attempts": 3, **RESTORE_SETTINGS})
        yield made
        made.close()


@pytest.fixture
def tokens(world: str) -> Iterator[TokenLedger]:
    with client_tokens_honoured() as ledger:
        yield ledger


def settle(replica: Services) -> None:
    """The replica's tracker follows the exports to their end, then its work runner does what is owed."""
    wait_until(lambda: not replica.tracker.run_cycle().checked or None, "exports to finish", timeout=30)
    replica.work_runner.run_pending()


def exports_in_aws(ddb: Any, table: str = "orders") -> int:
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    return len(ddb.list_exports(TableArn=arn)["ExportSummaries"])


def messages_with(slack: SlackStandIn, channel: str, *needles: str) -> list[PostedMessage]:
    return [m for m in slack.messages(channel) if all(n in text_of(m) for n in needles)]


# ------------------------------------------------------------------------------------------ schedule fires


@pytest.mark.parametrize("step", EXPORT_STEPS)
def test_a_fire_whose_replica_dies_at_any_step_makes_exactly_one_export_reported_once(
    cluster: Cluster, tokens: TokenLedger, slack: SlackStandIn, ddb: Any, step: str
) -> None:
    dying = cluster.replica(CrashAt(FIRE, step))
    schedule_id = add_schedule(dying.schedules, NewSchedule("orders", "0 * * * *"), Requester("U0ALICE")).view
    schedule_id = schedule_id.schedule.id
    with pytest.raises(Crash):
        run_schedule(dying.schedules, schedule_id, FIRE_TIME)  # APScheduler's thread dies with the replica

    taker = cluster.replica()
    assert taker.work_runner.run_pending([FIRE]) == 0, "a live claim is not taken over"
    cluster.stale()
    taken_over = {"kind": FIRE, "how": "taken_over"}
    before = REGISTRY.get_sample_value("ddbbot_work_claims_total", taken_over) or 0.0
    assert taker.work_runner.run_pending([FIRE]) == 1, "the stale claim is taken over"
    assert REGISTRY.get_sample_value("ddbbot_work_claims_total", taken_over) == before + 1
    settle(taker)

    (run,) = taker.schedules.store.runs(schedule_id)
    (job,) = taker.core.store.schedule_exports(schedule_id)
    assert run.state == RunState.STARTED and run.export_arn == job.export_arn and run.holder == taker.work_runner.holder
    assert exports_in_aws(ddb) == 1 and tokens.started["export"] == 1, "DynamoDB was asked for one export"
    assert job.status == ExportStatus.COMPLETED
    assert len(messages_with(slack, NOTIFY, job.export_id, "COMPLETED")) == 1, "its result posted once"
    item = taker.work_runner.keeper.store.get(FIRE, f"{schedule_id}@{FIRE_TIME:%Y-%m-%dT%H:%M:%SZ}")
    assert item is not None and item.state == WorkState.DONE and item.attempts == 2


def test_a_fire_that_kills_every_replica_is_given_up_and_reported_failed_to_on_call(
    cluster: Cluster, tokens: TokenLedger, slack: SlackStandIn, ddb: Any
) -> None:
    replicas = [cluster.replica(CrashAt(FIRE, "aws_called", FOREVER)) for _ in range(4)]
    schedule_id = add_schedule(replicas[0].schedules, NewSchedule("orders", "0 * * * *"), Requester("U0ALICE")).view
    schedule_id = schedule_id.schedule.id
    with pytest.raises(Crash):
        run_schedule(replicas[0].schedules, schedule_id, FIRE_TIME)
    for replica in replicas[1:3]:
        cluster.stale()
        with pytest.raises(Crash):
            replica.work_runner.run_pending([FIRE])
    cluster.stale()
    assert replicas[3].work_runner.run_pending([FIRE]) == 1, "the fourth take reports it given up instead of running it"
    replicas[3].work_runner.run_pending([NOTE])

    (run,) = replicas[3].schedules.store.runs(schedule_id)
    assert run.state == RunState.FAILED and "gave up" in (run.error or "")
    (report,) = messages_with(slack, NOTIFY, schedule_id, "gave up")
    assert f"<!subteam^{ONCALL}>" in text_of(report), "on-call is told"
    assert "3 times" in text_of(report)
    item = replicas[3].work_runner.keeper.store.get(FIRE, f"{schedule_id}@{FIRE_TIME:%Y-%m-%dT%H:%M:%SZ}")
    assert item is not None and item.state == WorkState.GIVEN_UP
    assert exports_in_aws(ddb) == 1, "every attempt asked for the same export (one ClientToken)"


FANOUT_STEPS = ["claimed", "aws_called", "recorded", "target_recorded", "finishing"]


@pytest.mark.parametrize("step", FANOUT_STEPS)
def test_a_many_table_fire_whose_replica_dies_at_any_step_does_each_table_once(
    cluster: Cluster, tokens: TokenLedger, slack: SlackStandIn, ddb: Any, step: str
) -> None:
    """Each table of a fire is a target of its own: the replica that takes the fire over does the tables left, each
    once (the one in flight when the holder died is asked again with its ClientToken, which starts nothing new; one
    whose export was recorded is not asked again), and the fire's message is posted once."""
    for name in ("alpha", "beta"):
        create_table(ddb, name, pitr=True, items=[{"pk": {"S": f"{name}#1"}, "sk": {"S": "a"}}])
    dying = cluster.replica(CrashAt(FIRE, step))
    schedule_id = add_schedule(dying.schedules, NewSchedule("*", "0 * * * *"), Requester("U0ALICE")).view.schedule.id
    with pytest.raises(Crash):
        run_schedule(dying.schedules, schedule_id, FIRE_TIME)
    asked_before = dict(tokens.asked)

    taker = cluster.replica()
    cluster.stale()
    assert taker.work_runner.run_pending([FIRE]) == 1
    asked = {table: n - asked_before.get(table, 0) for table, n in tokens.asked.items()}
    left = {
        "claimed": {"alpha", "beta", "orders"},
        "aws_called": {"alpha", "beta", "orders"},  # alpha asked again with its ClientToken: the same export answered
        "recorded": {"beta", "orders"},  # alpha's export recorded: found by its ClientToken, not asked again
        "target_recorded": {"beta", "orders"},
        "finishing": set(),  # every table done: the taker only records the run and owes its message
    }[step]
    assert {k for k, v in asked.items() if v} == {f"export:{t}" for t in left}, "the taker asks only for the rest"
    assert all(v <= 1 for v in asked.values())
    assert tokens.started["export"] == 3, "one export per table"
    assert {job.table_key for job in taker.core.store.schedule_exports(schedule_id, 10)} == {"alpha", "beta", "orders"}
    taker.work_runner.run_pending([NOTE])
    (report,) = messages_with(slack, NOTIFY, schedule_id, "3 exports started, 1 failed")
    assert "`customers`" in text_of(report) and f"<!subteam^{ONCALL}>" in text_of(report), "PITR off named"
    (run,) = taker.schedules.store.runs(schedule_id)
    assert run.state == RunState.STARTED


@pytest.mark.parametrize("step", FANOUT_STEPS)
def test_a_failed_table_retried_alone_whose_replica_dies_at_any_step_is_exported_once_and_reported_once(
    cluster: Cluster, tokens: TokenLedger, slack: SlackStandIn, ddb: Any, step: str
) -> None:
    """The fire's `fanout` work tries a failed table again on its own; the replica doing it dies at each step, the
    next replica finishes it: the table exported once, the others never asked again, the news posted once."""
    first = cluster.replica()
    schedule_id = add_schedule(first.schedules, NewSchedule("*", "0 * * * *"), Requester("U0ALICE")).view.schedule.id
    run_schedule(first.schedules, schedule_id, FIRE_TIME)
    first.work_runner.run_pending([NOTE])
    (report,) = messages_with(slack, NOTIFY, schedule_id, "1 exports started, 1 failed")
    assert "`customers`" in text_of(report) and f"<!subteam^{ONCALL}>" in text_of(report)
    ddb.update_continuous_backups(
        TableName="customers", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    asked_before = dict(tokens.asked)

    dying = cluster.replica(CrashAt(FANOUT, step))
    cluster.clock.advance(seconds=3600)  # past the failed table's pause
    with pytest.raises(Crash):
        dying.work_runner.run_pending([FANOUT])
    taker = cluster.replica()
    cluster.stale()
    assert taker.work_runner.run_pending([FANOUT]) == 1
    taker.work_runner.run_pending([NOTE])

    asked = {table: n - asked_before.get(table, 0) for table, n in tokens.asked.items()}
    assert {k: v for k, v in asked.items() if v} == (
        {"export:customers": 2} if step == "aws_called" else {"export:customers": 1}
    ), "only the failed table is asked again (with its ClientToken after a crash in doubt)"
    assert tokens.started["export"] == 2, "orders once, customers once"
    (later,) = messages_with(slack, NOTIFY, schedule_id, "Later:")
    assert "`customers`: export" in text_of(later).split("Later:", 1)[1]
    assert "`orders`" not in text_of(later).split("Later:", 1)[1], "the table done already is not news"
    item = taker.work_runner.keeper.store.get(FANOUT, str(taker.schedules.store.runs(schedule_id)[0].id))
    assert item is not None and item.state == WorkState.DONE


# ------------------------------------------------------------------------------------------------ restores


def approved_import(replica: Services, slack: SlackStandIn) -> str:
    """Export `orders`, ask to restore it into a new table and approve: queued as claimed work."""
    started = start_export(replica.core, "orders", ExportOptions(), Requester(REQUESTER, OPS))
    settle(replica)
    job: ExportJob | None = replica.core.store.get_export(started.job.export_arn)
    assert job is not None and job.status == ExportStatus.COMPLETED
    spec = RestoreSpec(RestoreMode.IMPORT, (job.export_id,), "orders-restored")
    requested = replica.restores.request(spec, Requester(REQUESTER, OPS))
    decided = replica.restores.approve(requested.request.button_value, APPROVER)
    assert decided.outcome == "approved"
    return requested.request.id


def restore_taken_over(cluster: Cluster) -> Services:
    """A fresh replica leaves the dead one's live claim alone, takes the restore over once the claim is stale, runs it
    to its end and posts the result it owes."""
    taker = cluster.replica()
    assert taker.work_runner.run_pending([RESTORE]) == 0, "a live claim is not taken over"
    cluster.stale()
    assert taker.work_runner.run_pending([RESTORE]) == 1
    taker.work_runner.run_pending([NOTE])
    return taker


@pytest.mark.parametrize("step", EXPORT_STEPS)
def test_a_restore_whose_replica_dies_at_any_step_imports_once_and_is_reported_once(
    cluster: Cluster, tokens: TokenLedger, slack: SlackStandIn, ddb: Any, step: str
) -> None:
    dying = cluster.replica(CrashAt(RESTORE, step))
    request_id = approved_import(dying, slack)
    with pytest.raises(Crash):
        dying.work_runner.run_pending([RESTORE])
    taker = restore_taken_over(cluster)

    request = RestoreStore(taker.engine).get(request_id)
    assert request is not None and request.status == RestoreStatus.SUCCEEDED, request
    assert tokens.started["import"] == 1, "ImportTable started once"
    assert scan_all(ddb, "orders-restored") == scan_all(ddb, "orders"), "the table holds the items, once each"
    assert len(messages_with(slack, APPROVALS, request_id, "*finished*")) == 1, "the result posted once"


def approved_partial_import(replica: Services, s3: Any) -> str:
    """An export of ten items, two of whose sort keys are text where the key asked for says number, asked into a new
    table and approved: ImportTable (as AWS runs it) rejects those two, so the restore ends PARTIAL."""
    good = [{"pk": {"S": f"order#{i}"}, "sk": {"N": str(i)}} for i in range(8)]
    wrong = [{"pk": {"S": f"odd#{i}"}, "sk": {"S": f"text {i}"}} for i in range(2)]
    export = write_full_export(s3, BUCKET, "external", good + wrong, files=2, empty_files=0, export_time=FIRE_TIME)
    spec = RestoreSpec(RestoreMode.IMPORT, (export.url,), "copied", key=(("pk", "S"), ("sk", "N")))
    requested = replica.restores.request(spec, Requester(REQUESTER, OPS))
    assert replica.restores.approve(requested.request.button_value, APPROVER).outcome == "approved"
    return requested.request.id


def test_a_restore_ending_partial_whose_replica_dies_finishing_is_taken_over_and_reported_partial_once(
    cluster: Cluster, tokens: TokenLedger, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    partial = {"mode": RestoreMode.IMPORT, "outcome": "partial"}
    with aws_import_table():
        dying = cluster.replica(CrashAt(RESTORE, "finishing"))
        request_id = approved_partial_import(dying, s3)
        with pytest.raises(Crash):
            dying.work_runner.run_pending([RESTORE])
        running = RestoreStore(dying.engine).get(request_id)
        assert running is not None and running.status == RestoreStatus.RUNNING, "the PARTIAL ending died with it"
        before = REGISTRY.get_sample_value("ddbbot_restores_total", partial) or 0.0
        taker = restore_taken_over(cluster)

    request = RestoreStore(taker.engine).get(request_id)
    assert request is not None and request.status == RestoreStatus.PARTIAL, request
    check = request.outcome_check
    assert check is not None and (check.expected, check.done, check.errors) == (10, 8, 2)
    assert tokens.started["import"] == 1, "ImportTable started once"
    assert len(scan_all(ddb, "copied")) == 8
    assert len(messages_with(slack, APPROVALS, request_id, "is *PARTIAL*", "8 of 10 items")) == 1, "told once"
    assert len(messages_with(slack, REQUESTER, request_id, "PARTIAL: 8 of 10 items")) == 1, "the requester told once"
    assert not messages_with(slack, APPROVALS, request_id, "*finished*")
    (finish,) = taker.core.store.audit_entries(action="restore.finish")
    assert finish["result"].startswith("partial: 8 of 10 items")
    assert REGISTRY.get_sample_value("ddbbot_restores_total", partial) == before + 1
    claim = taker.work_runner.keeper.store.get(RESTORE, request_id)
    assert claim is not None and claim.state == WorkState.DONE and claim.attempts == 2


def test_a_restore_that_kills_every_replica_is_given_up_and_its_requester_told(
    cluster: Cluster, tokens: TokenLedger, slack: SlackStandIn, ddb: Any
) -> None:
    replicas = [cluster.replica(CrashAt(RESTORE, "aws_called", FOREVER)) for _ in range(4)]
    request_id = approved_import(replicas[0], slack)
    for replica in replicas[:3]:
        with pytest.raises(Crash):
            replica.work_runner.run_pending([RESTORE])
        cluster.stale()
    assert replicas[3].work_runner.run_pending([RESTORE]) == 1
    replicas[3].work_runner.run_pending([NOTE])
    request = RestoreStore(replicas[3].engine).get(request_id)
    assert request is not None and request.status == RestoreStatus.FAILED
    assert len(messages_with(slack, APPROVALS, request_id, "*failed*", "gave up")) == 1
    assert messages_with(slack, REQUESTER, request_id, "failed"), "the requester is told"
    assert tokens.started["import"] == 1


@pytest.mark.parametrize("step", ["aws_called", "target_recorded"])
def test_a_restore_end_whose_poster_dies_after_its_first_destination_reaches_the_rest_and_never_that_one_again(
    cluster: Cluster, tokens: TokenLedger, slack: SlackStandIn, ddb: Any, step: str
) -> None:
    """The end goes to four destinations, each its own target: the replica dies once the first (the thread reply)
    is posted, before its delivery was recorded (the reply is then looked for in the thread by its stamp) or after;
    a fresh replica delivers the edit, the requester's DM and the notification channel, and the reply stays one."""
    replica = cluster.replica()
    request_id = approved_import(replica, slack)
    assert replica.work_runner.run_pending([RESTORE]) == 1
    dying = cluster.replica(CrashAt(NOTE, step))
    with pytest.raises(Crash):
        dying.work_runner.run_pending([NOTE])
    approval = next(m for m in slack.messages(APPROVALS) if m.thread_ts is None and request_id in m.text)
    in_thread = [m for m in messages_with(slack, APPROVALS, request_id, "finished") if m.thread_ts == approval.ts]
    assert len(in_thread) == 1 and not messages_with(slack, REQUESTER, request_id, "finished"), "died after one"

    taker = cluster.replica()
    assert taker.work_runner.run_pending([NOTE]) == 0, "a live claim is not taken over"
    cluster.stale()
    assert taker.work_runner.run_pending([NOTE]) == 1
    in_thread = [m for m in messages_with(slack, APPROVALS, request_id, "finished") if m.thread_ts == approval.ts]
    assert len(in_thread) == 1, "the thread reply never posted again"
    assert len(messages_with(slack, REQUESTER, request_id, "finished")) == 1
    assert len(messages_with(slack, NOTIFY, request_id, "finished")) == 1
    edited = next(m for m in slack.messages(APPROVALS) if m.ts == approval.ts)
    assert "Finished: see the thread" in text_of(edited)
    looked = [c.method for c in slack.calls if c.method.startswith("conversations.")]
    assert looked == (["conversations.replies"] if step == "aws_called" else []), "only a post in doubt is looked for"
    note = taker.work_runner.keeper.store.get(NOTE, f"restore:{request_id}")
    assert note is not None and note.state == WorkState.DONE


# ----------------------------------------------------------------------------------------------------- notes


@pytest.mark.parametrize("step", ["claimed", "aws_called", "target_recorded", "finishing"])
def test_a_result_whose_poster_dies_at_any_step_is_posted_exactly_once_in_each_channel(
    cluster: Cluster, slack: SlackStandIn, step: str
) -> None:
    """Slack's chat.postMessage takes no idempotency key: each post carries its note's stamp as metadata, and the
    replica that takes over a channel whose post may have gone through looks for the stamp before posting again."""
    dying = cluster.replica(CrashAt(NOTE, step))
    started = start_export(dying.core, "orders", ExportOptions(), Requester(REQUESTER, OPS))
    wait_until(lambda: not dying.tracker.run_cycle().checked or None, "the export to finish", timeout=30)
    with pytest.raises(Crash):
        dying.work_runner.run_pending([NOTE])
    posted_before = len(messages_with(slack, OPS, started.job.export_id, "COMPLETED"))

    taker = cluster.replica()
    assert taker.work_runner.run_pending([NOTE]) == 0, "a live claim is not taken over"
    cluster.stale()
    assert taker.work_runner.run_pending([NOTE]) == 1
    assert posted_before == (0 if step == "claimed" else 1)
    for channel in (OPS, NOTIFY):
        posted = messages_with(slack, channel, started.job.export_id, "COMPLETED")
        assert len(posted) == 1, f"posted once in {channel}"
    assert taker.core.store.unposted_results() == []
    looked = [c for c in slack.calls if c.method == "conversations.history"]
    assert len(looked) == (1 if step == "aws_called" else 0), "only a post in doubt is looked for"


def test_a_result_whose_channel_cannot_be_read_back_is_posted_again_never_lost(
    cluster: Cluster, slack: SlackStandIn
) -> None:
    """Without channels:history the stamp cannot be looked for: the post in doubt is made again (at least once)."""
    slack.scopes.discard("channels:history")
    dying = cluster.replica(CrashAt(NOTE, "aws_called"))
    started = start_export(dying.core, "orders", ExportOptions(), Requester(REQUESTER, OPS))
    wait_until(lambda: not dying.tracker.run_cycle().checked or None, "the export to finish", timeout=30)
    with pytest.raises(Crash):
        dying.work_runner.run_pending([NOTE])
    taker = cluster.replica()
    cluster.stale()
    assert taker.work_runner.run_pending([NOTE]) == 1
    posted = messages_with(slack, OPS, started.job.export_id, "COMPLETED")
    assert len(posted) == 2, "posted again: lost never, twice at worst"
    assert json.dumps(posted[-1].blocks) == json.dumps(posted[0].blocks)
    assert len(messages_with(slack, NOTIFY, started.job.export_id, "COMPLETED")) == 1
    (looked,) = [c for c in slack.calls if c.method == "conversations.history"]
    assert looked.error == "missing_scope"


# ------------------------------------------------------------------------------------- verifications and drills


def completed_export(replica: Services, s3: Any) -> ExportJob:
    """An export of `orders` the bot made, its files laid out as DynamoDB writes them (manifests, checksums)."""
    with exports_held() as release:
        started = start_export(replica.core, "orders", ExportOptions(), Requester(REQUESTER, OPS))
        lay_out(s3, started.job)
        release.set()
    settle(replica)  # finished, its result posted and its manifests kept as its reference
    return started.job


@pytest.mark.parametrize("step", ["claimed", "aws_called", "finishing"])
def test_a_verification_whose_replica_dies_at_any_step_is_verified_and_reported_once(
    cluster: Cluster, slack: SlackStandIn, s3: Any, step: str
) -> None:
    dying = cluster.replica(CrashAt(VERIFICATION, step), operators=[REQUESTER])
    job = completed_export(dying, s3)
    queued = queue_verification(dying.verifications, job.export_id, None, Requester(REQUESTER, OPS))
    with pytest.raises(Crash):
        dying.work_runner.run_pending([VERIFICATION])

    taker = cluster.replica(operators=[REQUESTER])
    assert taker.work_runner.run_pending([VERIFICATION]) == 0, "a live claim is not taken over"
    cluster.stale()
    assert taker.work_runner.run_pending([VERIFICATION]) == 1
    taker.work_runner.run_pending([NOTE])

    done = VerificationStore(taker.engine).get(queued.id)
    assert done is not None and done.status == VerificationStatus.PASSED and done.items == ITEMS
    results = [m for m in slack.messages(OPS) if m.thread_ts is not None and "verified" in m.text]
    assert len(results) == 1, "the result posted once"


@pytest.mark.parametrize("step", EXPORT_STEPS)
def test_a_drill_whose_replica_dies_at_any_step_imports_once_passes_and_is_reported_once(
    cluster: Cluster, tokens: TokenLedger, slack: SlackStandIn, s3: Any, ddb: Any, step: str
) -> None:
    dying = cluster.replica(CrashAt(DRILL, step), operators=[REQUESTER])
    completed_export(dying, s3)
    queued = queue_drill(dying.drills, DrillRequest("orders"), Requester(REQUESTER, OPS)).drill
    taker = die_and_take_over(cluster, dying, DRILL, operators=[REQUESTER])

    done = DrillStore(taker.engine).get(queued.id)
    assert done is not None and done.status == DrillStatus.PASSED, done
    assert tokens.started["import"] == 1, "ImportTable started once"
    assert done.result.items_imported == ITEMS and done.result.deleted
    assert [t for t in ddb.list_tables()["TableNames"] if "-drill-" in t] == [], "its table deleted"
    results = [m for m in slack.messages(OPS) if "Restore drill of" in m.text and queued.id in json.dumps(m.blocks)]
    assert len(results) == 1, "the result posted once"


def test_a_drill_that_kills_every_replica_is_given_up_and_reported_failed(
    cluster: Cluster, tokens: TokenLedger, slack: SlackStandIn, s3: Any
) -> None:
    replicas = [cluster.replica(CrashAt(DRILL, "aws_called", FOREVER), operators=[REQUESTER]) for _ in range(4)]
    completed_export(replicas[0], s3)
    queued = queue_drill(replicas[0].drills, DrillRequest("orders"), Requester(REQUESTER, OPS)).drill
    for replica in replicas[:3]:
        with pytest.raises(Crash):
            replica.work_runner.run_pending([DRILL])
        cluster.stale()
    assert replicas[3].work_runner.run_pending([DRILL]) == 1
    replicas[3].work_runner.run_pending([NOTE])
    done = DrillStore(replicas[3].engine).get(queued.id)
    assert done is not None and done.status == DrillStatus.FAILED and "gave up" in (done.result.failure or "")
    (report,) = [m for m in slack.messages(OPS) if "Restore drill of" in m.text and "gave up" in text_of(m)]
    assert queued.spec.drill_table in text_of(report), "the table it may have left is named"
