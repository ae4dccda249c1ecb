"""`into=`: exports laid out exactly as real ones, replayed into an existing table through the bot, end to end."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.demo.slack_standin import SlackStandIn
from bot.restores.load import load_key
from bot.restores.load_checkpoints import SqlLoadCheckpoints
from bot.restores.models import ImportOptions, RestoreStatus
from bot.wiring.runtime import BotRuntime
from bot.words import plural
from tests.integration.conftest import SIGNING_SECRET, BotFactory, bot_settings
from tests.support.aws_proxy import AwsFaultProxy, Fault
from tests.support.export_fixtures import (
    Item,
    decoded,
    key_attributes,
    key_of,
    sample_items,
    write_export_chain,
    write_full_export,
    write_incremental_export,
)
from tests.support.hostile import GIB, gzip_bomb, peak_memory
from tests.support.restore_flow import (
    APPROVALS,
    APPROVER,
    OPS,
    RESTORE_SETTINGS,
    approval_message,
    ask,
    click,
    create_staging,
    latest_request,
    staged,
    thread_of,
    wait_for_status,
    wait_until,
)
from tests.support.slack_requests import SignedSlackClient

BUCKET = "acme-ddb-backups"
PREFIX = "external/source"
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
ODD_ITEM: Item = {
    "pk": {"S": "odd"},
    "sk": {"N": "0"},
    "empty": {"M": {}},
    "text": {"S": "Zoë <@U0ALICE> & 日本 🚀"},
    "precise": {"N": "-12345678901234567890.123456789012345678"},
}


def test_into_replays_a_full_export_and_its_incrementals_in_time_order(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    base = [*sample_items(60, seed=3), ODD_ITEM]
    chain = write_export_chain(s3, BUCKET, PREFIX, base, T0, full_files=4, full_empty=2)
    full, first, second = chain.full, chain.first, chain.second
    data_keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/AWSDynamoDB/data/")["Contents"]]
    assert len(data_keys) == 6  # both incrementals share one data folder
    create_staging(ddb)
    ddb.put_item(TableName="staging", Item={"pk": {"S": "already-there"}, "sk": {"N": "1"}})

    ask(signed_restore, slack, f"{second.url} {full.url} {first.url} into=staging")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    assert request.mode == "load"
    assert list(request.plan.sources) == [full.url, first.url, second.url]
    assert "write request units" in str(message.blocks)
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, "FAILED"})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message

    expected = {**chain.table, ("already-there", "1"): {"pk": {"S": "already-there"}, "sk": {"N": "1"}}}
    assert staged(ddb) == expected
    assert done.result["items_written"] == chain.writes == len(base) + 5 + 5 + 2
    assert done.result["deletes_applied"] == chain.deletes == 3 + 1
    assert done.result["details"]["unverified_files"] == 0  # every data file had its manifest MD5
    report = slack.wait_for(lambda m: m.thread_ts == message.ts and "finished" in m.text)
    assert "Deletes applied" in str(report.blocks)


def test_into_a_table_with_another_key_schema_is_refused_before_approval(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    full = write_full_export(s3, BUCKET, PREFIX, sample_items(5), files=1, export_time=T0)
    create_staging(ddb, "staging-text-sk", sort_type="S")
    ask(signed_restore, slack, f"{full.url} into=staging-text-sk")
    refusal = slack.wait_for(lambda m: m.channel == OPS and "does not match" in m.text)
    assert "sk:S" in refusal.text and "sk:N" in refusal.text
    assert not slack.messages("C0APPROVALS")


def bomb_in_place_of_its_data_file(s3: Any, location: Any, head: bytes = b"") -> None:
    """The export's one data file replaced by gzip data that inflates to 1 GiB: `head`, then one endless line."""
    listing = s3.list_objects_v2(Bucket=location.bucket, Prefix=location.folder + "data/")
    (key,) = [entry["Key"] for entry in listing["Contents"]]
    s3.put_object(Bucket=location.bucket, Key=key, Body=gzip_bomb(GIB, head=head))


def plan_once(signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any) -> None:
    """A bot's first plan builds its AWS clients (~15 MB of service models): done before memory is measured."""
    normal = write_full_export(s3, BUCKET, "warm/up", sample_items(3), files=1, export_time=T0 - timedelta(hours=1))
    create_staging(ddb, "warm-up")
    ask(signed, slack, f"{normal.url} into=warm-up")
    approval_message(slack)


def test_planning_into_reads_the_first_item_of_a_gzip_bomb_without_inflating_the_rest(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    full = write_full_export(s3, BUCKET, PREFIX, sample_items(3), files=1, empty_files=0, export_time=T0)
    bomb_in_place_of_its_data_file(s3, full, head=b'{"Item":{"pk":{"S":"a"},"sk":{"S":"b"}}}\n')
    create_staging(ddb)
    plan_once(signed_restore, slack, ddb, s3)
    with peak_memory() as peak:
        ask(signed_restore, slack, f"{full.url} into=staging")
        refusal = slack.wait_for(lambda m: m.channel == OPS and "does not match" in m.text)
    assert "sk:S, from its first item" in refusal.text
    assert peak.mb < 20, f"{peak.mb:.0f} MB allocated to plan a restore from a 1 MB file"


def test_planning_into_leaves_a_first_line_too_long_to_look_at_to_the_loader(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    full = write_full_export(s3, BUCKET, PREFIX, sample_items(3), files=1, empty_files=0, export_time=T0)
    bomb_in_place_of_its_data_file(s3, full)
    create_staging(ddb)
    plan_once(signed_restore, slack, ddb, s3)
    with peak_memory() as peak:
        ask(signed_restore, slack, f"{full.url} into=staging")
        slack.wait_for(lambda m: m.channel == APPROVALS and "warm-up" not in m.text)  # planned: the loader reads it
    assert peak.mb < 20, f"{peak.mb:.0f} MB allocated to plan a restore from a 1 MB file"


def test_into_a_missing_table_is_refused_before_approval(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, s3: Any
) -> None:
    full = write_full_export(s3, BUCKET, PREFIX, sample_items(5), files=1, export_time=T0)
    ask(signed_restore, slack, f"{full.url} into=nowhere")
    slack.wait_for(lambda m: m.channel == OPS and "No table `nowhere` in us-east-1" in m.text)
    assert not slack.messages("C0APPROVALS")


class BatchWriteGate:
    """Lets `allow` BatchWriteItem calls through to moto (all when None) and throttles the rest, counting items."""

    def __init__(self, allow: int | None) -> None:
        self.allow = allow
        self.passed_items = 0
        self.throttled = 0
        self._lock = threading.Lock()

    def __call__(self, operation: str, body: bytes) -> Fault | None:
        if operation != "BatchWriteItem":
            return None
        with self._lock:
            if self.allow is not None and self.allow <= 0:
                self.throttled += 1
                return Fault(400, "ThrottlingException", "slow down")
            self.allow = None if self.allow is None else self.allow - 1
            self.passed_items += sum(len(v) for v in json.loads(body)["RequestItems"].values())
        return None


@pytest.fixture
def fronts() -> Iterator[list[AwsFaultProxy]]:
    made: list[AwsFaultProxy] = []
    yield made
    for front in made:
        front.close()


def test_a_running_into_restore_resumes_after_a_restart_without_rewriting_finished_files(
    world: str,
    slack: SlackStandIn,
    ddb: Any,
    s3: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fronts: list[AwsFaultProxy],
) -> None:
    items = list(sample_items(120, seed=9))
    full = write_full_export(s3, BUCKET, PREFIX, items, files=6, empty_files=1, export_time=T0)
    create_staging(ddb)
    settings = bot_settings(tmp_path, slack, **RESTORE_SETTINGS)

    first_gate = BatchWriteGate(allow=2)
    fronts.append(AwsFaultProxy(world, first_gate))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", fronts[-1].url)
    first = BotRuntime(settings, host="127.0.0.1", port=0).start()
    try:
        signed = SignedSlackClient(f"{first.url}/slack/events", SIGNING_SECRET)
        ask(signed, slack, f"{full.url} into=staging")
        message = approval_message(slack)
        request = latest_request(first)
        click(signed, slack, message, "restore_approve", APPROVER)
        checkpoints = SqlLoadCheckpoints(first.services.engine)
        wait_until(
            lambda: checkpoints.totals(load_key(request.plan))[1] > 0 and first_gate.throttled > 0,
            "a file written, then throttling",
        )
    finally:
        first.stop()
    status, (finished_files, finished_items, _) = stored_state(settings, request.id, load_key(request.plan))
    assert status == RestoreStatus.RUNNING
    assert 1 <= finished_files < 7
    written_before = first_gate.passed_items

    second_gate = BatchWriteGate(allow=None)
    fronts.append(AwsFaultProxy(world, second_gate))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", fronts[-1].url)
    second = BotRuntime(settings, host="127.0.0.1", port=0).start()
    try:
        done = wait_for_status(second, request.id, {RestoreStatus.SUCCEEDED, "FAILED"})
        assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
        resumed = slack.wait_for(lambda m: m.thread_ts == message.ts and "Resumed after a restart" in m.text)
        assert f"{plural(finished_files, 'data file')} already written" in resumed.text
        slack.wait_for(lambda m: m.thread_ts == message.ts and "not rewritten" in str(m.blocks))
        audit = [e["action"] for e in second.services.core.store.audit_entries(limit=50)]
        assert "restore.resume" in audit
    finally:
        second.stop()

    assert staged(ddb) == {key_of(i): decoded(i) for i in items}
    assert second_gate.passed_items == len(items) - finished_items
    assert written_before >= finished_items
    assert done.result["files_skipped"] == finished_files


def stored_state(settings: Any, request_id: str, key: str) -> tuple[str, tuple[int, int, int]]:
    """The request's status and its loader checkpoints, read after the bot stopped."""
    from bot.db import make_engine
    from bot.restores.store import RestoreStore

    engine = make_engine(settings.database_url)
    try:
        found = RestoreStore(engine).get(request_id)
        assert found is not None
        return found.status, SqlLoadCheckpoints(engine).totals(key)
    finally:
        engine.dispose()


def test_to_from_an_s3_url_of_a_foreign_export_needs_key_and_imports_the_data_folder(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    # moto's ImportTable parses files with a JSON parser that fails on some text sample_items holds (quotes,
    # backslashes) and on an empty data file (real exports' 20-byte empty partitions); real ImportTable reads
    # both. Every type is covered by the export-made test and the loader; empty partitions by the into= tests.
    items = [
        {"pk": {"S": f"order#{i}"}, "sk": {"N": str(i)}, "total": {"N": f"{i}.5"}, "paid": {"BOOL": i % 2 == 0}}
        for i in range(30)
    ]
    full = write_full_export(s3, BUCKET, PREFIX, items, files=3, empty_files=0, export_time=T0)

    ask(signed_restore, slack, f"{full.url} to=copied")
    slack.wait_for(lambda m: m.channel == OPS and "cannot tell the key schema" in m.text)
    assert not slack.messages("C0APPROVALS")

    ask(signed_restore, slack, f"{full.url} to=copied key=pk:S,sk:N")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    assert request.plan.options_as(ImportOptions).key_prefix == f"{full.folder}data/"
    assert request.plan.sources == (full.url,)
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, "FAILED"})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert staged(ddb, "copied") == {key_of(i): decoded(i) for i in items}
    report = slack.wait_for(lambda m: m.thread_ts == message.ts and "finished" in m.text)
    assert "could not read the source table" in str(report.blocks)


def test_into_names_what_the_exports_files_cannot_be_checked_by_in_the_approval_message(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    base = list(sample_items(30, seed=6))
    bare = write_full_export(s3, BUCKET, PREFIX, base, files=2, empty_files=0, export_time=T0, checksums=None)
    changes = [(key_attributes(i), {**i, "name": {"S": "changed"}}) for i in base[:6]]
    named = write_incremental_export(
        s3, BUCKET, PREFIX, changes, T0, T0 + timedelta(hours=1), files=2, checksums=".checksum", md5_missing=2
    )
    create_staging(ddb)

    ask(signed_restore, slack, f"{bare.url} {named.url} into=staging")

    message = approval_message(slack)
    warning = next(b["text"]["text"] for b in message.blocks if "Not verified" in b.get("text", {}).get("text", ""))
    assert f"Export {bare.export_id}: manifest-files.json has no checksum file: its list of data files is not " in (
        warning
    )
    assert f"Export {bare.export_id}: manifest-summary.json has no checksum file" in warning
    assert f"Export {named.export_id}: 2 of 3 data files have no MD5 in the manifest: they are written unchecked" in (
        warning
    )
    assert f"Export {named.export_id}: manifest" not in warning  # its .checksum files were found and matched
    reply = slack.wait_for(lambda m: m.channel == OPS and "waiting for" in m.text)
    assert "2 of 3 data files have no MD5 in the manifest" in str(reply.blocks)
    request = latest_request(restore_bot)
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, "FAILED"})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert len(staged(ddb)) == len(base)


def test_into_with_a_rate_shows_the_ceiling_to_approvers_runs_under_it_and_reports_it(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    items = list(sample_items(80, seed=11))
    full = write_full_export(s3, BUCKET, PREFIX, items, files=2, export_time=T0)
    ddb.create_table(
        TableName="live",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 400},
    )

    ask(signed_restore, slack, f"{full.url} into=live rate=25%")
    message = approval_message(slack)
    shown = str(message.blocks)
    assert "*Write rate:* at most 100 write units/s (25% of 400 write units/s, provisioned write capacity)" in shown
    assert "at that rate" in shown
    request = latest_request(restore_bot)
    assert request.plan.as_dict()["options"]["rate"]["units"] == 100  # part of what the approval is bound to
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, "FAILED"})

    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert staged(ddb, "live") == {key_of(i): decoded(i) for i in items}
    report = slack.wait_for(lambda m: m.thread_ts == message.ts and "finished" in m.text)
    assert "Ceiling: at most 100 write units/s" in str(report.blocks)
    # 80 units at 100 a second take at least 0.8 s, so the 0.4 s progress line came while the ceiling held
    assert any("write units/s of 100 allowed" in m.text for m in thread_of(slack, message)), [
        m.text for m in thread_of(slack, message)
    ]
    assert "Throttled calls: *0*" in str(report.blocks)


def test_into_without_a_rate_gets_the_default_ceiling_from_the_setting(
    start_bot: BotFactory, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    bot = start_bot(**RESTORE_SETTINGS, restore_rate="1500/s")
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    full = write_full_export(s3, BUCKET, PREFIX, sample_items(5), files=1, export_time=T0)
    create_staging(ddb)

    ask(signed, slack, f"{full.url} into=staging")

    assert "at most 1,500 write units/s" in str(approval_message(slack).blocks)
