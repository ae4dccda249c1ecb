"""Where a restore reads from, through the running bot: an S3 URL's bucket and owner are shown and checked, and
the export's files approved are the files restored (a replaced manifest fails the run, nothing is written)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.demo.slack_standin import SlackStandIn
from bot.restores.models import ImportOptions, LoadOptions, RestoreStatus
from bot.restores.store import RestoreStore
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.export_fixtures import EMPTY_GZIP, sample_items, write_full_export
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
    thread_of,
    wait_for_status,
    wait_until,
)
from tests.support.s3_owners import S3OwnerFront
from tests.support.slack_requests import SignedSlackClient

BUCKET = "acme-ddb-backups"  # the configured export bucket (DDBBOT_EXPORT_BUCKET in the test settings)
PARTNER = "partner-backups"
PARTNER_OWNER = "210987654321"
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)


def item_count(ddb: Any, table: str) -> int:
    return sum(page["Count"] for page in ddb.get_paginator("scan").paginate(TableName=table, Select="COUNT"))


@pytest.fixture
def s3_front(world: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3OwnerFront]:
    """The bot's S3 goes through a front that checks ExpectedBucketOwner; the partner bucket is another account's."""
    front = S3OwnerFront(world, {PARTNER: PARTNER_OWNER})
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", front.url)
    yield front
    front.close()


def nothing_asked(bot: BotRuntime, slack: SlackStandIn) -> None:
    assert RestoreStore(bot.services.engine).recent(5) == []
    assert not slack.messages(APPROVALS)


# ------------------------------------------------------------------------------------ bucket and owner


def test_an_unconfigured_bucket_needs_owner_which_s3_checks_and_the_approval_message_shows(
    s3_front: S3OwnerFront, start_bot: BotFactory, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    s3.create_bucket(Bucket=PARTNER)
    items = list(sample_items(12, seed=5))
    export = write_full_export(s3, PARTNER, "orders", items, files=2, export_time=T0)
    create_staging(ddb)
    bot = start_bot(**RESTORE_SETTINGS)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)

    ask(signed, slack, f"{export.url} into=staging")
    refusal = slack.wait_for(lambda m: m.channel == OPS and "not one of the bot's export buckets" in m.text)
    assert "add `owner=&lt;12-digit account id&gt;`" in str(refusal.blocks)
    assert s3_front.calls_to(PARTNER) == []  # refused before anything was read from it
    nothing_asked(bot, slack)

    ask(signed, slack, f"{export.url} into=staging owner=999999999999")
    wrong = slack.wait_for(lambda m: m.channel == OPS and "AccessDenied" in m.text)
    assert "is not owned by account 999999999999" in str(wrong.blocks)
    nothing_asked(bot, slack)

    before = len(s3_front.calls_to(PARTNER))
    ask(signed, slack, f"{export.url} into=staging owner={PARTNER_OWNER}")
    message = approval_message(slack)
    must_see = message.blocks[1]["text"]["text"]
    assert f"*Read from bucket:* `{PARTNER}`, owned by account `{PARTNER_OWNER}`" in must_see
    assert "come from that bucket's own manifest-summary.json" in must_see
    request = latest_request(bot)
    assert request.plan.options_as(LoadOptions).exports[0].owner == PARTNER_OWNER
    click(signed, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(bot, request.id, {RestoreStatus.SUCCEEDED, RestoreStatus.FAILED})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert item_count(ddb, "staging") == len(items)
    reads = s3_front.calls_to(PARTNER)[before:]  # planning, the run's check and the loader's reads
    data_reads = [call for call in reads if "/data/" in call.key]
    assert len(data_reads) >= 2 and {call.expected_owner for call in reads} == {PARTNER_OWNER}


def test_a_configured_bucket_needs_no_owner_and_says_its_owner_is_not_checked(
    restore_bot: BotRuntime, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    export = write_full_export(s3, BUCKET, "external", sample_items(4), files=1, export_time=T0)
    create_staging(ddb)
    ask(signed_restore, slack, f"{export.url} into=staging")
    must_see = approval_message(slack).blocks[1]["text"]["text"]
    assert f"*Read from bucket:* `{BUCKET}`, a configured export bucket; no owner configured" in must_see


# ------------------------------------------------------------------------------ files replaced after approval


def _replace_manifest_files(s3: Any, location: Any) -> None:
    """Drop one data file from the list and rewrite its checksum, as someone with write access could."""
    key = location.folder + "manifest-files.json"
    lines = s3.get_object(Bucket=location.bucket, Key=key)["Body"].read().splitlines(keepends=True)
    body = b"".join(lines[1:])
    s3.put_object(Bucket=location.bucket, Key=key, Body=body)
    digest = base64.b64encode(hashlib.md5(body).digest())  # noqa: S324 - the export's own checksum format
    s3.put_object(Bucket=location.bucket, Key=location.folder + "manifest-files.md5", Body=digest)


def test_into_refuses_an_export_whose_manifest_was_replaced_after_approval(
    restore_bot: BotRuntime, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    export = write_full_export(s3, BUCKET, "external", sample_items(20), files=3, export_time=T0)
    create_staging(ddb)
    ask(signed_restore, slack, f"{export.url} into=staging")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    assert request.plan.options_as(LoadOptions).exports[0].manifest_md5

    _replace_manifest_files(s3, export)
    click(signed_restore, slack, message, "restore_approve", APPROVER)

    done = wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, RestoreStatus.FAILED})
    assert done.status == RestoreStatus.FAILED
    assert "The export's files were replaced after approval: manifest-files.json" in (done.failure_message or "")
    assert item_count(ddb, "staging") == 0
    wait_until(lambda: any("*failed*" in m.text for m in thread_of(slack, message)), "the failure in the thread")


def test_import_refuses_an_export_whose_data_folder_changed_after_approval(
    restore_bot: BotRuntime, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    items = [{"pk": {"S": f"order#{i}"}, "sk": {"N": str(i)}} for i in range(10)]
    export = write_full_export(s3, BUCKET, "external", items, files=2, empty_files=0, export_time=T0)
    ask(signed_restore, slack, f"{export.url} to=copied key=pk:S,sk:N")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    data_prefix = request.plan.options_as(ImportOptions).key_prefix

    s3.put_object(Bucket=BUCKET, Key=data_prefix + "planted.json.gz", Body=EMPTY_GZIP)  # ImportTable reads it all
    click(signed_restore, slack, message, "restore_approve", APPROVER)

    done = wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, RestoreStatus.FAILED})
    assert done.status == RestoreStatus.FAILED
    assert "The export's files were replaced after approval: the data folder ImportTable reads" in (
        done.failure_message or ""
    )
    assert "copied" not in ddb.list_tables()["TableNames"]
