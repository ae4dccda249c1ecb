"""Every restore ends with the one outcome check (items promised against items done), through the running bot: an
ImportTable that rejected items, a loader that wrote fewer items than promised or stopped part-way, and a
point-in-time restore, whose count cannot be known honestly, are each reported for what they are."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.demo.slack_standin import SlackStandIn
from bot.metrics import REGISTRY
from bot.restores.models import RestoreStatus
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.aws_proxy import AwsFaultProxy
from tests.support.aws_world import create_table
from tests.support.export_fixtures import (
    decoded,
    key_of,
    sample_items,
    write_full_export,
    write_incremental_export,
)
from tests.support.import_standin import aws_import_table
from tests.support.restore_flow import (
    APPROVALS,
    APPROVER,
    OPS,
    REQUESTER,
    RESTORE_SETTINGS,
    approval_message,
    ask,
    click,
    create_staging,
    export_table,
    latest_request,
    scan_all,
    staged,
    wait_for_status,
    wait_until,
)
from tests.support.slack_requests import SignedSlackClient

BUCKET = "acme-ddb-backups"
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
ENDED = {RestoreStatus.SUCCEEDED, RestoreStatus.PARTIAL, RestoreStatus.FAILED}


def restores_counted(mode: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("ddbbot_restores_total", {"mode": mode, "outcome": outcome}) or 0.0


def report_in_thread(slack: SlackStandIn, message: Any, word: str) -> str:
    found = slack.wait_for(lambda m: m.thread_ts == message.ts and word in m.text)
    return json.dumps(found.blocks, ensure_ascii=False)


@pytest.fixture
def imports_as_aws() -> Iterator[None]:
    with aws_import_table():
        yield


# ----------------------------------------------------------------------------------------------- ImportTable


def test_an_import_that_rejected_items_is_partial_with_the_counts_and_the_log_group(
    imports_as_aws: None,
    restore_bot: BotRuntime,
    signed_restore: SignedSlackClient,
    slack: SlackStandIn,
    ddb: Any,
    s3: Any,
) -> None:
    good = [{"pk": {"S": f"order#{i}"}, "sk": {"N": str(i)}} for i in range(8)]
    wrong = [{"pk": {"S": f"odd#{i}"}, "sk": {"S": f"text {i}"}} for i in range(2)]  # sk is S, the key says N
    export = write_full_export(s3, BUCKET, "external", good + wrong, files=2, empty_files=0, export_time=T0)
    before = restores_counted("import", "partial")

    ask(signed_restore, slack, f"{export.url} to=copied key=pk:S,sk:N")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, ENDED)

    assert done.status == RestoreStatus.PARTIAL
    check = done.outcome_check
    assert check is not None and (check.expected, check.done, check.errors) == (10, 8, 2)
    assert len(staged(ddb, "copied")) == 8
    report = report_in_thread(slack, message, "PARTIAL")
    assert "8 of 10 items · 2 rejected" in report
    assert "2 item(s) were rejected and are not in the table" in report
    assert "CloudWatch log group `/aws-dynamodb/imports`" in report
    assert "*finished*" not in report
    settled = slack.wait_for(lambda m: m.ts == message.ts and "PARTIAL" in json.dumps(m.blocks))
    assert "restore finished" not in json.dumps(settled.blocks)
    slack.wait_for(lambda m: m.channel == REQUESTER and request.id in m.text and "PARTIAL: 8 of 10 items" in m.text)
    assert restores_counted("import", "partial") == before + 1
    finish = restore_bot.services.core.store.audit_entries(action="restore.finish")[0]
    assert finish["result"].startswith("partial: 8 of 10 items")


def test_a_source_table_recreated_with_another_key_is_refused_then_imported_with_the_exports_recorded_key(
    imports_as_aws: None, restore_bot: BotRuntime, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    job = export_table(restore_bot, signed_restore, slack, "orders")
    ddb.delete_table(TableName="orders")
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )

    ask(signed_restore, slack, f"{job.export_arn} to=orders-copy")
    refusal = slack.wait_for(lambda m: m.channel == OPS and "recreated" in m.text)
    assert "now has the key id:N" in refusal.text and "pk:S, sk:S" in refusal.text
    assert "key=pk:S,sk:S" in json.dumps(refusal.blocks)
    assert not slack.messages(APPROVALS)

    ask(signed_restore, slack, f"{job.export_arn} to=orders-copy key=pk:S,sk:S")
    message = approval_message(slack)
    shown = json.dumps(message.blocks)
    assert "from the schema recorded when the bot made the export" in shown
    assert "now has the key id:N" in shown
    request = latest_request(restore_bot)
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, ENDED)

    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert len(scan_all(ddb, "orders-copy")) == 3
    check = done.outcome_check
    assert check is not None and (check.expected, check.done, check.errors) == (3, 3, 0)
    assert "3 of 3 items: every item the plan promised" in report_in_thread(slack, message, "finished")


# ------------------------------------------------------------------------------------------------ the loader


def _promise_more(s3: Any, location: Any, extra: int) -> None:
    """Rewrite the manifest so its first data file promises `extra` more records than it holds, checksums kept
    consistent (an export whose manifest and data disagree)."""
    files_key = location.folder + "manifest-files.json"
    entries = [json.loads(line) for line in s3.get_object(Bucket=BUCKET, Key=files_key)["Body"].read().splitlines()]
    entries[0]["itemCount"] += extra
    body = b"".join(json.dumps(e).encode() + b"\n" for e in entries)
    s3.put_object(Bucket=BUCKET, Key=files_key, Body=body)
    s3.put_object(Bucket=BUCKET, Key=files_key[:-5] + ".md5", Body=base64.b64encode(hashlib.md5(body).digest()))  # noqa: S324
    summary_key = location.folder + "manifest-summary.json"
    summary = json.loads(s3.get_object(Bucket=BUCKET, Key=summary_key)["Body"].read())
    summary["itemCount"] += extra
    summary_body = json.dumps(summary).encode()
    s3.put_object(Bucket=BUCKET, Key=summary_key, Body=summary_body)
    digest = base64.b64encode(hashlib.md5(summary_body).digest())  # noqa: S324
    s3.put_object(Bucket=BUCKET, Key=summary_key[:-5] + ".md5", Body=digest)


def test_a_load_that_writes_fewer_items_than_promised_is_partial_naming_the_file(
    restore_bot: BotRuntime, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    items = list(sample_items(40, seed=2))
    export = write_full_export(s3, BUCKET, "short", items, files=2, empty_files=0, export_time=T0)
    _promise_more(s3, export, 5)
    create_staging(ddb)

    ask(signed_restore, slack, f"{export.url} into=staging")
    message = approval_message(slack)
    assert "45 items" in json.dumps(message.blocks)  # what the approvers were promised
    request = latest_request(restore_bot)
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, ENDED)

    assert done.status == RestoreStatus.PARTIAL
    assert len(staged(ddb)) == 40
    report = report_in_thread(slack, message, "PARTIAL")
    assert "40 of 45 items" in report
    assert "5 of the 45 items promised (the export's manifest-summary.json) are missing" in report
    assert "/data/" in report and "promised" in report  # the file that holds fewer records than its manifest says


def test_a_load_that_stops_part_way_is_partial_and_a_new_request_continues_after_the_finished_files(
    world: str,
    start_bot: BotFactory,
    slack: SlackStandIn,
    ddb: Any,
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = list(sample_items(60, seed=4))
    full = write_full_export(s3, BUCKET, "chain", base, files=3, empty_files=0, export_time=T0)
    changed = [({"pk": i["pk"], "sk": i["sk"]}, {**i, "name": {"S": "changed"}}) for i in base[:10]]
    incremental = write_incremental_export(
        s3, BUCKET, "chain", changed, T0, T0 + timedelta(hours=1), files=1, empty_files=0
    )
    data_key = next(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="chain/AWSDynamoDB/data/")["Contents"])
    original = s3.get_object(Bucket=BUCKET, Key=data_key)["Body"].read()
    create_staging(ddb)
    counting = BatchWriteCounter()
    front = AwsFaultProxy(world, counting)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", front.url)
    try:
        bot = start_bot(**RESTORE_SETTINGS)
        signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
        ask(signed, slack, f"{full.url} {incremental.url} into=staging")
        message = approval_message(slack)
        first = latest_request(bot)
        # the incremental's data file is replaced after approval: its bytes no longer match the manifest's MD5
        s3.put_object(Bucket=BUCKET, Key=data_key, Body=gzip.compress(b'{"Keys":{}}\n'))
        click(signed, slack, message, "restore_approve", APPROVER)
        stopped = wait_for_status(bot, first.id, ENDED)

        assert stopped.status == RestoreStatus.PARTIAL
        assert counting.items == 60  # the full export landed, nothing of the incremental
        report = report_in_thread(slack, message, "PARTIAL")
        assert "does not match its manifest checksum" in report
        assert "3 data file(s) are fully written and kept" in report
        assert "ask again for the same exports into `staging` (a new request) and it continues after them" in report

        s3.put_object(Bucket=BUCKET, Key=data_key, Body=original)  # the export is whole again
        ask(signed, slack, f"{full.url} {incremental.url} into=staging")
        second = wait_until(lambda: r if (r := latest_request(bot)).id != first.id else None, "the second request")
        second_message = approval_message(slack, second.id)
        assert second.plan == first.plan
        click(signed, slack, second_message, "restore_approve", APPROVER)
        done = wait_for_status(bot, second.id, ENDED)
    finally:
        front.close()

    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert counting.items == 60 + 10  # the second request wrote only what the first had not finished
    assert done.result["files_skipped"] == 3
    expected = {key_of(i): decoded(i) for i in base} | {key_of(n): decoded(n) for _, n in changed}
    assert staged(ddb) == expected
    final = report_in_thread(slack, second_message, "finished")
    assert "3 finished before, not rewritten" in final and "70 of 70 items" in final


class BatchWriteCounter:
    """Lets every call through to moto and counts the put and delete requests BatchWriteItem carried."""

    def __init__(self) -> None:
        self.items = 0
        self._lock = threading.Lock()

    def __call__(self, operation: str, body: bytes) -> None:
        if operation == "BatchWriteItem":
            with self._lock:
                self.items += sum(len(requests) for requests in json.loads(body)["RequestItems"].values())


# ----------------------------------------------------------------------------------------------------- PITR


def test_a_pitr_restore_says_plainly_that_its_item_count_cannot_be_known_yet(
    restore_bot: BotRuntime, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    create_table(ddb, "ledger", pitr=True, items=[{"pk": {"S": f"l{i}"}, "sk": {"S": "v"}} for i in range(4)])
    ask(signed_restore, slack, "pitr ledger to=ledger-restored at=latest")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, ENDED)

    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    check = done.outcome_check
    assert check is not None and check.verdict == "unchecked" and check.expected is None and check.done is None
    report = report_in_thread(slack, message, "finished")
    assert "items not counted" in report and "not compared" in report and "only about every six hours" in report
    assert "Items in the new table" not in report
    assert done.result["item_count"] is None  # DescribeTable's stale ItemCount is not passed off as a count
