"""What planning checks about the exports before anyone is asked to approve, through the running bot: a chain with a
hole is refused naming the window and the export that fills it, approvers see each incremental's window, an export
rewritten after the bot recorded it is refused, and every export of a chain is read with its own account's
credentials."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.demo.slack_standin import SlackStandIn
from bot.exports.reference import ReferenceStore
from bot.restores.models import RestoreStatus
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.aws_world import account_credentials, client, create_table
from tests.support.export_fixtures import sample_items, write_full_export, write_incremental_export
from tests.support.restore_flow import (
    APPROVALS,
    APPROVER,
    RESTORE_SETTINGS,
    approval_message,
    ask,
    click,
    create_staging,
    export_table,
    latest_request,
    scan_all,
    wait_for_status,
    wait_until,
)
from tests.support.s3_owners import S3OwnerFront
from tests.support.slack_requests import SignedSlackClient

BUCKET = "acme-ddb-backups"
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PROD = "111111111111"
ENDED = {RestoreStatus.SUCCEEDED, RestoreStatus.PARTIAL, RestoreStatus.FAILED}


def keys(item: dict[str, Any]) -> dict[str, Any]:
    return {"pk": item["pk"], "sk": item["sk"]}


def answer(slack: SlackStandIn, contains: str) -> str:
    found = slack.wait_for(lambda m: m.channel == OPS and contains in m.text)
    return found.text + json.dumps(found.blocks, ensure_ascii=False)


# -------------------------------------------------------------------------------------------------- the chain


def test_a_chain_with_a_missing_hour_is_refused_naming_the_window_and_the_export_that_fills_it(
    restore_bot: BotRuntime, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    base = list(sample_items(20, seed=1))
    full = write_full_export(s3, BUCKET, "gap", base, files=1, export_time=T0, table_name="orders")
    first = write_incremental_export(
        s3, BUCKET, "gap", [(keys(base[0]), None, base[0])], T0, T0 + HOUR, files=1, table_name="orders"
    )
    # 11:00-12:00 is missing: the item deleted at 11:30 would stay
    third = write_incremental_export(
        s3, BUCKET, "gap", [(keys(base[1]), base[1])], T0 + 2 * HOUR, T0 + 3 * HOUR, files=1, table_name="orders"
    )
    create_staging(ddb)

    ask(signed_restore, slack, f"{full.url} {first.url} {third.url} into=staging")

    refusal = answer(slack, "gap")
    assert "nothing covers 2026-01-14T11:00:00Z to 2026-01-14T12:00:00Z" in refusal
    assert "/ddb-export orders since=2026-01-14T11:00:00Z until=2026-01-14T12:00:00Z" in refusal
    assert not slack.messages(APPROVALS)
    assert scan_all(ddb, "staging") == {}


def test_a_chain_whose_first_incremental_starts_after_the_full_export_is_refused(
    restore_bot: BotRuntime, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    base = list(sample_items(10, seed=2))
    full = write_full_export(s3, BUCKET, "late", base, files=1, export_time=T0, table_name="orders")
    late = write_incremental_export(
        s3, BUCKET, "late", [(keys(base[0]), base[0])], T0 + 30 * timedelta(minutes=1), T0 + HOUR, files=1
    )
    create_staging(ddb)

    ask(signed_restore, slack, f"{full.url} {late.url} into=staging")

    assert "nothing covers 2026-01-14T10:00:00Z to 2026-01-14T10:30:00Z" in answer(slack, "gap")
    assert not slack.messages(APPROVALS)


def test_a_contiguous_chain_is_asked_for_with_each_incrementals_window_shown(
    restore_bot: BotRuntime, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any
) -> None:
    base = list(sample_items(10, seed=3))
    full = write_full_export(s3, BUCKET, "ok", base, files=1, export_time=T0 + timedelta(minutes=5))
    first = write_incremental_export(s3, BUCKET, "ok", [(keys(base[0]), None, base[0])], T0, T0 + HOUR, files=1)
    second = write_incremental_export(s3, BUCKET, "ok", [(keys(base[1]), base[1])], T0 + HOUR, T0 + 2 * HOUR, files=1)
    create_staging(ddb)

    ask(signed_restore, slack, f"{second.url} {full.url} {first.url} into=staging")

    shown = json.dumps(approval_message(slack).blocks, ensure_ascii=False)
    assert "changes from 2026-01-14T10:00:00Z to 2026-01-14T11:00:00Z" in shown
    assert "changes from 2026-01-14T11:00:00Z to 2026-01-14T12:00:00Z" in shown
    assert "as of 2026-01-14T10:05:00Z" in shown  # the full export, at its moment


# ---------------------------------------------------------------------------------------- the bot's record


def _rewrite_moto_data_file(s3: Any, job: Any) -> None:
    """Replace the one data file moto wrote for the export (moto writes no manifests: the record is the listing)."""
    folder = f"{job.s3_prefix}/AWSDynamoDB/"
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=folder)["Contents"] if "/data/" in o["Key"]]
    item = {"pk": {"S": "planted"}, "sk": {"S": "x"}}
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(json.dumps({"Item": item}).encode() + b"\n"))


@pytest.mark.parametrize("mode", ["into=orders-staging", "to=orders-copy"])
def test_an_export_rewritten_after_the_bot_recorded_it_is_refused_before_approval(
    restore_bot: BotRuntime, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any, mode: str
) -> None:
    job = export_table(restore_bot, signed_restore, slack, "orders")
    references = ReferenceStore(restore_bot.services.engine)
    wait_until(lambda: references.get(job.export_arn), "the bot's record of the export")
    create_staging(ddb, "orders-staging", sort_type="S")
    _rewrite_moto_data_file(s3, job)

    ask(signed_restore, slack, f"{job.export_id} {mode}")

    refusal = answer(slack, "changed after it completed")
    assert f"Export `{job.export_id}` was changed after it completed" in refusal
    assert f"/ddb-verify {job.export_id}" in refusal
    assert not slack.messages(APPROVALS)
    assert scan_all(ddb, "orders-staging") == {}


# ------------------------------------------------------------------------------ each export with its own place


@pytest.fixture
def s3_front(world: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3OwnerFront]:
    front = S3OwnerFront(world, {})
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", front.url)
    yield front
    front.close()


def test_each_export_of_a_chain_is_read_with_its_own_accounts_credentials(
    s3_front: S3OwnerFront, start_bot: BotFactory, slack: SlackStandIn, world: str, ddb: Any, s3: Any, tmp_path: Path
) -> None:
    config = tmp_path / "accounts.toml"
    config.write_text(f'[accounts.prod]\nrole_arn = "arn:aws:iam::{PROD}:role/ddb-backup-bot"\n')
    prod = account_credentials(world, PROD)
    create_table(client("dynamodb", world, **prod), "orders", pitr=True, items=[{"pk": {"S": "p1"}, "sk": {"S": "a"}}])
    client("s3", world, **prod).create_bucket(Bucket="prod-backups")
    bot = start_bot(**RESTORE_SETTINGS, config_file=config)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    signed.command("/ddb-export", "prod:orders bucket=prod-backups", response_url=slack.response_url(OPS))
    job = wait_until(
        lambda: next((j for j in bot.services.core.store.recent_exports("prod:orders") if j.finished), None),
        "the export of prod:orders",
    )
    moment = job.export_time or job.started_at or job.created_at
    added = {"pk": {"S": "i1"}, "sk": {"S": "b"}}
    copied = write_incremental_export(
        s3, BUCKET, "copied", [(added, added)], moment - HOUR, moment + HOUR, files=1, table_name="orders"
    )
    create_staging(ddb, sort_type="S")

    ask(signed, slack, f"{job.export_arn} {copied.url} into=staging")
    message = approval_message(slack)
    request = latest_request(bot)
    reads_before = len(s3_front.calls)
    click(signed, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(bot, request.id, ENDED)

    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert set(scan_all(ddb, "staging")) == {"p1|a", "i1|b"}
    data_reads = [c for c in s3_front.calls[reads_before:] if c.method == "GET" and "/data/" in c.key]
    prod_keys = {c.access_key for c in data_reads if c.bucket == "prod-backups"}
    own_keys = {c.access_key for c in data_reads if c.bucket == BUCKET}
    assert prod_keys and own_keys, data_reads
    assert own_keys == {"testing"}, "the copied export is read with the bot's own credentials"
    assert "testing" not in prod_keys, "the prod export is read with the prod account's credentials"
