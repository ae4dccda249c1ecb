"""`into=` on DynamoDB's own bulk put, end to end: the bot behind its signed Slack endpoint, its AWS endpoint pointed at
the stand-ins' front (bot/demo/aws: StartBulkPutItems and the rest, as AWS documents them), exports laid out as real
ones; cancel and retry through the same commands."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.demo.aws.clock import micros
from bot.demo.aws.standins import AwsStandIns, start_standins
from bot.demo.slack_standin import SlackStandIn
from bot.restores.models import RestoreStatus
from bot.restores.store import RestoreStore
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.integration.restores.conftest import BUCKET, T0, Exported
from tests.support.aws_standins import finished_export, standin_client
from tests.support.export_fixtures import (
    decoded,
    key_of,
    sample_items,
    write_export_chain,
    write_full_export,
)
from tests.support.restore_flow import (
    APPROVALS,
    APPROVER,
    ENDED,
    OPS,
    REQUESTER,
    RESTORE_SETTINGS,
    approval_message,
    ask,
    ask_retry,
    click,
    create_staging,
    ephemeral_to,
    staged,
    text_of,
    thread_of,
    wait_for_status,
    wait_until,
)
from tests.support.slack_requests import SignedSlackClient

PREFIX = "external/source"
SECRET = "TOP-SECRET-VALUE"


@pytest.fixture
def aws(world: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStandIns]:
    """The stand-ins' front before moto; the bots started after this point talk to it (AWS_ENDPOINT_URL)."""
    with start_standins(world) as standins:
        monkeypatch.setenv("AWS_ENDPOINT_URL", standins.url)
        yield standins


@pytest.fixture
def bulk_bot(aws: AwsStandIns, start_bot: BotFactory) -> BotRuntime:
    return start_bot(**RESTORE_SETTINGS)


@pytest.fixture
def signed(bulk_bot: BotRuntime) -> SignedSlackClient:
    return SignedSlackClient(f"{bulk_bot.url}/slack/events", SIGNING_SECRET)


def approve_latest(bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn) -> tuple[Any, Any]:
    """Wait for the newest approval message (planning runs after the command's ack), then approve it."""
    wait_until(lambda: any(m.channel == APPROVALS for m in slack.messages(APPROVALS)), "an approval message")
    request = wait_until(lambda: RestoreStore(bot.services.engine).recent(1), "a stored request")[0]
    message = approval_message(slack, request.id)
    click(signed, slack, message, "restore_approve", APPROVER)
    return request, message


def test_a_full_export_into_an_existing_table_is_written_by_bulk_put(
    aws: AwsStandIns, bulk_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    base = list(sample_items(80, seed=5))
    full = write_full_export(s3, BUCKET, PREFIX, base, files=4, empty_files=1, export_time=T0)
    create_staging(ddb)

    ask(signed, slack, f"{full.url} into=staging rate=2000/s")
    message = approval_message(slack)
    shown = text_of(message)
    assert "Engine:* DynamoDB's bulk put" in shown
    assert "Standard tier* *(chosen)*" in shown and "Accelerated tier" in shown
    assert "price not published; billed per bulk put byte" in shown
    assert "MaxWriteRequestUnits 2,000" in shown
    request, _ = approve_latest(bulk_bot, signed, slack)
    done = wait_for_status(bulk_bot, request.id, ENDED)

    assert done.status == RestoreStatus.SUCCEEDED, (done.failure_message, done.result)
    assert staged(ddb) == {key_of(i): decoded(i) for i in base}, "every item landed, as exported"
    (operation,) = aws.bulk.operations()
    sent = operation.request
    assert sent["InputS3Configuration"] == {
        "S3Bucket": BUCKET,
        "S3KeyPrefix": f"{full.folder}data/",
        "InputFormat": "DYNAMODB_JSON",
        "InputCompressionType": "GZIP",
    }
    assert sent["MaxWriteRequestUnits"] == 2000 and sent["PerformanceTier"] == "STANDARD"
    assert sent["ClientToken"].startswith(f"ddb-backup-bot-{request.id}-")
    assert done.aws_ref == operation.arn
    assert done.result["check"]["verdict"] == "complete" and done.result["check"]["done"] == len(base)
    report = slack.wait_for(lambda m: m.thread_ts == message.ts and "finished" in m.text)
    assert "Bulk put:* COMPLETED" in text_of(report) and "no item failed" in text_of(report)


def test_a_chain_loads_the_full_export_by_bulk_put_then_its_incrementals_in_order(
    aws: AwsStandIns, bulk_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    base = list(sample_items(40, seed=3))
    chain = write_export_chain(s3, BUCKET, PREFIX, base, T0)
    full, first, second = chain.full, chain.first, chain.second
    create_staging(ddb)

    ask(signed, slack, f"{second.url} {full.url} {first.url} into=staging")
    assert "then 2 incremental exports by the loader" in text_of(approval_message(slack))
    request, _ = approve_latest(bulk_bot, signed, slack)
    done = wait_for_status(bulk_bot, request.id, ENDED)
    assert done.status == RestoreStatus.SUCCEEDED, (done.failure_message, done.result)

    assert staged(ddb) == chain.table, "the history, applied in order"
    (operation,) = aws.bulk.operations()
    assert operation.request["InputS3Configuration"]["S3KeyPrefix"] == f"{full.folder}data/", "bulk put: the full one"
    changes = sorted(aws.timeline("staging").changes(), key=lambda c: c.micros)
    assert operation.end is not None
    ended = micros(operation.end)
    assert all(c.micros <= ended for c in changes[: len(base)]), "the bulk put wrote the full export's items first"
    assert all(c.micros >= ended for c in changes[len(base) :]), "the loader wrote only after the operation ended"


def test_rejected_items_and_false_conditions_are_summarised_from_the_report_with_keys_only(
    aws: AwsStandIns, bulk_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    good = [{"pk": {"S": f"good#{i}"}, "sk": {"N": str(i)}, "secret": {"S": SECRET}} for i in range(6)]
    wrong_type = {"Item": {"pk": {"S": "wrong#1"}, "sk": {"S": "not a number"}, "secret": {"S": SECRET}}}
    guarded = {
        "Item": {"pk": {"S": "kept#1"}, "sk": {"N": "1"}, "secret": {"S": SECRET}},
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    lines = [json.dumps(wrong_type).encode() + b"\n", json.dumps(guarded).encode() + b"\n"]
    full = write_full_export(s3, BUCKET, PREFIX, good, files=2, empty_files=0, export_time=T0, raw_lines=lines)
    create_staging(ddb)
    ddb.put_item(TableName="staging", Item={"pk": {"S": "kept#1"}, "sk": {"N": "1"}, "v": {"S": "mine"}})

    ask(signed, slack, f"{full.url} into=staging")
    request, message = approve_latest(bulk_bot, signed, slack)
    done = wait_for_status(bulk_bot, request.id, ENDED)

    assert done.status == RestoreStatus.PARTIAL, (done.failure_message, done.result)
    check = done.result["check"]
    assert (check["expected"], check["done"], check["errors"], check["conditions"]) == (8, 6, 1, 1)
    assert ddb.get_item(TableName="staging", Key={"pk": {"S": "kept#1"}, "sk": {"N": "1"}})["Item"]["v"] == {
        "S": "mine"
    }
    report = slack.wait_for(lambda m: m.thread_ts == message.ts and "PARTIAL" in m.text)
    shown = text_of(report)
    assert "1 rejected, 1 whose condition was false" in shown
    assert "pk=wrong#1 (S), sk=not a number (S)" in shown and "pk=kept#1 (S), sk=1 (N)" in shown
    assert f"s3://{BUCKET}/dynamodb-exports/bulk-put-reports/{request.id}/" in shown
    everything = " ".join(text_of(m) for m in slack.messages(APPROVALS) + slack.messages(OPS))
    assert SECRET not in everything, "item values never reach a channel"


def test_a_cancel_mid_way_stops_the_writes_and_a_retry_approved_again_finishes_the_job(
    aws: AwsStandIns, bulk_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, exported: Exported
) -> None:
    base, full = exported(60, seed=9, files=2)
    aws.bulk.hold.pause_after(20)

    ask(signed, slack, f"{full.url} into=staging")
    request, message = approve_latest(bulk_bot, signed, slack)
    assert aws.bulk.hold.paused.wait(20), "the operation reached 20 items"
    progress = slack.wait_for(lambda m: m.thread_ts == message.ts and "20 items processed" in m.text)
    assert "bulk put IN_PROGRESS" in progress.text, "the progress line is DescribeBulkOperation's"
    assert " read" in progress.text and " left" in progress.text, "bytes read of the total, and an ETA from them"
    ask(signed, slack, f"cancel {request.id}", user=REQUESTER)
    reply = slack.wait_for(lambda m: m.channel == OPS and "CancelBulkOperation" in text_of(m))
    assert "Items already written stay" in text_of(reply)
    (operation,) = aws.bulk.operations()
    wait_until(lambda: operation.status == "CANCELLING", "CancelBulkOperation reached DynamoDB")
    aws.bulk.hold.resume()
    done = wait_for_status(bulk_bot, request.id, ENDED)

    assert done.status == RestoreStatus.CANCELLED and done.cancel_requested_by == REQUESTER
    assert operation.status == "CANCELLED"
    written = len(staged(ddb))
    assert 20 <= written < len(base)
    time.sleep(0.5)
    assert len(staged(ddb)) == written, "no write after the cancel"
    note = slack.wait_for(lambda m: m.thread_ts == message.ts and "cancelled" in m.text)
    assert "Items already written stay" in text_of(note)
    assert "CANCELLED" in text_of(slack.wait_for(lambda m: m.ts == message.ts and "Cancelled" in text_of(m)))
    audit = bulk_bot.services.core.store.audit_entries(limit=50, action="restore.cancel")
    assert any(e["target"] == request.id and e["actor"] == REQUESTER for e in audit)

    retry, again = ask_retry(bulk_bot, signed, slack, request.id)
    assert retry.retry_of == request.id and retry.plan_hash == request.plan_hash and retry.status == "PENDING"
    assert "a new bulk put operation" in text_of(again)
    click(signed, slack, again, "restore_approve", REQUESTER)
    ephemeral_to(slack, REQUESTER, "cannot approve")
    click(signed, slack, again, "restore_approve", APPROVER)
    finished = wait_for_status(bulk_bot, retry.id, ENDED)
    assert finished.status == RestoreStatus.SUCCEEDED, (finished.failure_message, finished.result)
    assert staged(ddb) == {key_of(i): decoded(i) for i in base}
    tokens = {o.request["ClientToken"] for o in aws.bulk.operations()}
    assert len(tokens) == 2, "the retry started a new operation with a new ClientToken"


def test_a_global_table_falls_back_to_the_loader_and_says_why(
    aws: AwsStandIns, bulk_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, exported: Exported
) -> None:
    base, full = exported(30, seed=2, files=2)
    aws.bulk.global_tables.add("staging")

    ask(signed, slack, f"{full.url} into=staging engine=bulk")
    refusal = slack.wait_for(lambda m: m.channel == OPS and "engine=bulk" in m.text)
    assert "is a global table" in refusal.text
    ask(signed, slack, f"{full.url} into=staging")
    shown = text_of(approval_message(slack))
    assert "Engine:* the bot's loader: bulk put cannot run: `staging` is a global table (replicas in" in shown
    request, _ = approve_latest(bulk_bot, signed, slack)
    done = wait_for_status(bulk_bot, request.id, ENDED)
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert staged(ddb) == {key_of(i): decoded(i) for i in base}
    assert aws.bulk.operations() == [], "no bulk operation was started"
    assert thread_of(slack, approval_message(slack, request.id))


def test_an_ion_export_is_restored_into_an_existing_table_by_bulk_put(
    aws: AwsStandIns, bulk_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    job = export_table(aws, bulk_bot, signed, slack, "orders", "format=ion")
    assert job.export_format == "ION"
    create_staging(ddb, "orders-copy", sort_type="S")

    ask(signed, slack, f"{job.export_id} into=orders-copy")
    assert "Engine:* DynamoDB's bulk put" in text_of(approval_message(slack))
    request, _ = approve_latest(bulk_bot, signed, slack)
    done = wait_for_status(bulk_bot, request.id, ENDED)

    assert done.status == RestoreStatus.SUCCEEDED, (done.failure_message, done.result)
    (operation,) = aws.bulk.operations()
    assert operation.request["InputS3Configuration"]["InputFormat"] == "ION"
    assert staged(ddb, "orders-copy") == staged(ddb, "orders") and len(staged(ddb, "orders")) == 3


def test_an_ion_export_where_only_the_loader_could_run_is_refused_saying_so(
    aws: AwsStandIns, bulk_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    job = export_table(aws, bulk_bot, signed, slack, "orders", "format=ion")
    create_staging(ddb, "orders-copy", sort_type="S")
    aws.bulk.global_tables.add("orders-copy")

    ask(signed, slack, f"{job.export_id} into=orders-copy")
    refusal = slack.wait_for(lambda m: m.channel == OPS and "Ion" in text_of(m))
    assert "only DynamoDB's bulk put can read" in text_of(refusal) and "is a global table" in text_of(refusal)
    assert "Only the loader could run, and it reads DynamoDB JSON only" in text_of(refusal)
    assert not [m for m in slack.messages(APPROVALS) if "Restore request" in m.text]


def export_table(
    aws: AwsStandIns, bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, table: str, *options: str
) -> Any:
    """/ddb-export <table> [options] and wait until the bot recorded it COMPLETED (the stand-in finishes an export
    at its second DescribeExport: the test asks, as the console would)."""
    response = signed.command("/ddb-export", " ".join([table, *options]), response_url=slack.response_url(OPS))
    assert response.status == 200, response.body
    started = wait_until(lambda: bot.services.core.store.recent_exports(table), f"export of {table} started")[0]
    front = standin_client("dynamodb", aws)
    finished_export(front, started.export_arn)

    def completed() -> Any:
        jobs = bot.services.core.store.recent_exports(table)
        return jobs[0] if jobs and jobs[0].status == "COMPLETED" else None

    return wait_until(completed, f"export of {table} completed")


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        (
            "rate=500/s",
            "the bot's loader: bulk put cannot run: the ceiling resolves to 500 write units a second, below",
        ),
        ("engine=bulk rate=500/s", "MaxWriteRequestUnits 1,024 a second for bulk put"),
        ("tier=accelerated", "the bot's loader: bulk put cannot run: the accelerated tier is not known to be offered"),
        ("engine=loader", "the bot's loader: asked for with `engine=loader`"),
        ("", "DynamoDB's bulk put: the full export can be written by DynamoDB's own bulk put"),
    ],
)
def test_the_plan_says_which_engine_writes_and_why(
    aws: AwsStandIns,
    bulk_bot: BotRuntime,
    signed: SignedSlackClient,
    slack: SlackStandIn,
    exported: Exported,
    options: str,
    shown: str,
) -> None:
    _, full = exported(5)
    ask(signed, slack, f"{full.url} into=staging {options}")
    message = text_of(approval_message(slack))
    assert shown in message
    if options == "engine=bulk rate=500/s":
        assert "more than asked" in message, "the approvers see that the ceiling was raised to bulk put's minimum"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ("engine=bulk tier=accelerated", "`engine=bulk` cannot run: the accelerated tier is not known to be offered"),
        ("engine=loader tier=standard", "`tier=` is bulk put's; it does not go with `engine=loader`"),
        ("engine=fast", "`engine=fast` must be `engine=bulk`"),
    ],
)
def test_an_engine_or_tier_that_cannot_be_is_refused_before_approval(
    aws: AwsStandIns,
    bulk_bot: BotRuntime,
    signed: SignedSlackClient,
    slack: SlackStandIn,
    exported: Exported,
    options: str,
    says: str,
) -> None:
    _, full = exported(5)
    response = signed.command(
        "/ddb-restore", f"{full.url} into=staging {options}", user_id=REQUESTER, channel_id=OPS,
        response_url=slack.response_url(OPS, user=REQUESTER),
    )  # fmt: skip
    if says not in response.body:  # a malformed command is answered in the ack; a plan refused, by response_url
        refusal = slack.wait_for(lambda m: m.channel == OPS and says in text_of(m))
        assert refusal.ephemeral
    assert not [m for m in slack.messages(APPROVALS) if "Restore request" in m.text]
