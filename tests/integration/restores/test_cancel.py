"""Cancel and retry beyond bulk put: the loader stops at its next batch and a retry continues after the files it
finished; an ImportTable that AWS cannot stop ends CANCELLED and its new table may be deleted, only while it is the
very table the restore created. Through the signed endpoint (the loader), or replicas built by the bot's own wiring
on one database (ImportTable, moto with the ImportTable stand-in)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.background.notes import NOTE
from bot.demo.slack_standin import SlackStandIn
from bot.errors import PreconditionFailed
from bot.models import Requester
from bot.restores.models import RestoreMode, RestoreStatus
from bot.restores.plans import RestoreSpec
from bot.restores.store import RESTORE, RestoreStore
from bot.wiring.runtime import BotRuntime
from tests.integration.restores.conftest import BUCKET, T0, Exported
from tests.support.crashes import Cluster, Crash, CrashAt
from tests.support.databases import fresh_database
from tests.support.export_fixtures import decoded, key_of, sample_items, write_full_export
from tests.support.import_standin import aws_import_table
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
    latest_request,
    staged,
    text_of,
    wait_for_status,
    wait_until,
)
from tests.support.slack_requests import SignedSlackClient


def test_a_loader_cancelled_mid_way_stops_and_a_retry_continues_after_the_files_it_finished(
    restore_bot: BotRuntime,
    signed_restore: SignedSlackClient,
    slack: SlackStandIn,
    ddb: Any,
    exported: Exported,
) -> None:
    items, full = exported(120, seed=21, files=12)

    ask(signed_restore, slack, f"{full.url} into=staging engine=loader rate=20/s")
    message = approval_message(slack)
    assert "Engine:* the bot's loader: asked for with `engine=loader`" in text_of(message)
    request = latest_request(restore_bot)
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    wait_until(lambda: len(staged(ddb)) >= 25, "some files written", timeout=30)
    ask(signed_restore, slack, f"cancel {request.id}")
    reply = slack.wait_for(lambda m: m.channel == OPS and "loader stops at its next batch" in text_of(m))
    assert f"retry {request.id}" in text_of(reply)
    done = wait_for_status(restore_bot, request.id, ENDED)

    assert done.status == RestoreStatus.CANCELLED, (done.failure_message, done.result)
    written = len(staged(ddb))
    assert written < len(items)
    time.sleep(1.0)
    assert len(staged(ddb)) == written, "the loader wrote nothing after it stopped"
    slack.wait_for(lambda m: m.thread_ts == message.ts and "cancelled" in m.text)

    retry, again = ask_retry(restore_bot, signed_restore, slack, request.id)
    assert "data file(s) already written are skipped" in text_of(again)
    click(signed_restore, slack, again, "restore_approve", APPROVER)
    finished = wait_for_status(restore_bot, retry.id, ENDED, timeout=60)
    assert finished.status == RestoreStatus.SUCCEEDED, (finished.failure_message, finished.result)
    assert staged(ddb) == {key_of(i): decoded(i) for i in items}
    assert finished.result["files_skipped"] >= 1, "the files finished before the cancel were not written again"


@pytest.fixture
def cluster(world: str, slack: SlackStandIn, tmp_path: Path) -> Iterator[Cluster]:
    with fresh_database("sqlite", tmp_path) as url, aws_import_table():
        made = Cluster(url, slack, tmp_path, {"work_max_attempts": 3, **RESTORE_SETTINGS})
        yield made
        made.close()


def test_a_cancelled_import_ends_cancelled_once_aws_finished_and_only_its_own_table_may_be_deleted(
    cluster: Cluster, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    export = write_full_export(s3, BUCKET, "external", list(sample_items(10, seed=1)), files=1, export_time=T0)
    dying = cluster.replica(CrashAt(RESTORE, "recorded"))  # ImportTable started and recorded, then the replica died
    spec = RestoreSpec(RestoreMode.IMPORT, (export.url,), "restored-copy", key=(("pk", "S"), ("sk", "N")))
    requested = dying.restores.request(spec, Requester(REQUESTER, OPS))
    assert dying.restores.approve(requested.request.button_value, APPROVER).outcome == "approved"
    with pytest.raises(Crash):
        dying.work_runner.run_pending([RESTORE])
    request_id = requested.request.id

    taker = cluster.replica()
    answer = taker.restore_control.cancel(request_id, REQUESTER)
    assert "AWS cannot stop ImportTable" in answer.text
    cluster.stale()
    assert taker.work_runner.run_pending([RESTORE]) == 1
    taker.work_runner.run_pending([NOTE])

    request = RestoreStore(taker.engine).get(request_id)
    assert request is not None and request.status == RestoreStatus.CANCELLED, request
    note = slack.wait_for(lambda m: m.channel == APPROVALS and "cancelled" in m.text and request_id in m.text)
    assert "restore_delete_table" in str(note.blocks) and "AWS could not stop it" in text_of(note)
    assert len(ddb.scan(TableName="restored-copy")["Items"]) == 10, "the table AWS made holds what it imported"

    with pytest.raises(PreconditionFailed, match="already ended"):
        taker.restore_control.cancel(request_id, REQUESTER)
    said = taker.restore_control.delete_new_table(request_id, APPROVER)
    assert "is being deleted" in said
    assert "restored-copy" not in ddb.list_tables()["TableNames"]
    assert "no longer exists" in taker.restore_control.delete_new_table(request_id, APPROVER)
    ddb.create_table(
        TableName="restored-copy",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(PreconditionFailed, match="is not the one restore"):
        taker.restore_control.delete_new_table(request_id, APPROVER)
    assert "restored-copy" in ddb.list_tables()["TableNames"], "a table made again since is left alone"
    actions = [e["result"] for e in taker.core.store.audit_entries(action="restore.delete_table")]
    assert actions[-1] == "deleted" and any(a.startswith("refused") for a in actions)
