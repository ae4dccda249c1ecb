"""Which account and region a table ARN acts on: an aliased account through its role, the bot's own account, and
nothing else. End to end through the bot, moto (its STS maps assumed roles to their accounts) and the Slack
stand-in."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.restores.models import RestoreStatus
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.aws_world import DEFAULT_ACCOUNT, account_credentials, client, create_table
from tests.support.export_fixtures import write_full_export
from tests.support.restore_flow import (
    APPROVER,
    REQUESTER,
    RESTORE_SETTINGS,
    approval_message,
    click,
    latest_request,
    wait_for_status,
    wait_until,
)
from tests.support.slack_requests import SignedSlackClient

PROD = "111111111111"
STRANGER = "999999999999"


def reply(slack: SlackStandIn, signed: SignedSlackClient, command: str, text: str) -> PostedMessage:
    """Send a command and wait for its final answer through response_url (not the 'working' ack)."""
    seen = {m.ts for m in slack.messages()}
    response = signed.command(command, text, response_url=slack.response_url(OPS))
    assert response.status == 200, response.body
    return slack.wait_for(
        lambda m: m.ts not in seen and m.via == "response_url" and not m.text.startswith(":hourglass"), timeout=60
    )


def full_text(message: PostedMessage) -> str:
    return message.text + json.dumps(message.blocks)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.toml"
    path.write_text(f'[accounts.prod]\nrole_arn = "arn:aws:iam::{PROD}:role/ddb-backup-bot"\n')
    return path


@pytest.fixture
def aliased_bot(start_bot: BotFactory, config: Path) -> Any:
    return start_bot(**RESTORE_SETTINGS, config_file=config)


@pytest.fixture
def signed(aliased_bot: Any) -> SignedSlackClient:
    return SignedSlackClient(f"{aliased_bot.url}/slack/events", SIGNING_SECRET)


@pytest.fixture
def prod(world: str) -> dict[str, Any]:
    """The aliased account's clients, with a table `orders` (PITR on) and a bucket of its own."""
    credentials = account_credentials(world, PROD)
    ddb, s3 = client("dynamodb", world, **credentials), client("s3", world, **credentials)
    create_table(ddb, "orders", pitr=True, items=[{"pk": {"S": "prod#1"}, "sk": {"S": "a"}}])
    s3.create_bucket(Bucket="prod-backups")
    return {"dynamodb": ddb, "s3": s3}


@pytest.mark.parametrize("command", ["/ddb-pitr", "/ddb-cost", "/ddb-export", "/ddb-status", "/ddb-restore"])
def test_a_table_arn_in_an_account_without_an_alias_is_refused_naming_the_account(
    aliased_bot: Any, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, command: str
) -> None:
    arn = f"arn:aws:dynamodb:us-east-1:{STRANGER}:table/orders"
    text = f"pitr {arn} to=orders-copy" if command == "/ddb-restore" else arn
    answer = full_text(reply(slack, signed, command, text))
    assert f"account {STRANGER}, which has no alias" in answer
    assert "[accounts.&lt;alias&gt;]" in answer or "[accounts.<alias>]" in answer
    assert f"arn:aws:iam::{STRANGER}:role/ddb-backup-bot" in answer and "`prod`" in answer
    assert f"I run in account {DEFAULT_ACCOUNT}" in answer
    table_arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
    assert ddb.list_exports(TableArn=table_arn).get("ExportSummaries", []) == [], "nothing done in the bot's account"
    assert "orders-copy" not in ddb.list_tables()["TableNames"]


def test_an_export_arn_in_an_account_without_an_alias_is_refused(
    aliased_bot: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    arn = f"arn:aws:dynamodb:us-east-1:{STRANGER}:table/orders/export/01768385930622-efd1a093"
    answer = full_text(reply(slack, signed, "/ddb-status", arn))
    assert "Export `01768385930622-efd1a093`" in answer and f"account {STRANGER}, which has no alias" in answer


def test_a_table_arn_in_the_bots_own_account_or_an_aliased_one_acts_there(
    aliased_bot: Any, signed: SignedSlackClient, slack: SlackStandIn, prod: dict[str, Any]
) -> None:
    own = full_text(reply(slack, signed, "/ddb-pitr", f"arn:aws:dynamodb:us-east-1:{DEFAULT_ACCOUNT}:table/orders"))
    assert "PITR is *on*" in own
    theirs = full_text(reply(slack, signed, "/ddb-cost", f"arn:aws:dynamodb:us-east-1:{PROD}:table/orders"))
    assert "which has no alias" not in theirs and "orders" in theirs


@pytest.mark.parametrize("region", ["mars-north-1", "us-east-99"])
def test_a_table_arn_in_a_region_the_bot_cannot_reach_is_refused_naming_the_region(
    aliased_bot: Any, signed: SignedSlackClient, slack: SlackStandIn, region: str
) -> None:
    answer = full_text(reply(slack, signed, "/ddb-pitr", f"arn:aws:dynamodb:{region}:{DEFAULT_ACCOUNT}:table/orders"))
    assert f"region `{region}`" in answer and "partition `aws`" in answer


def test_the_restore_form_can_target_an_aliased_table(
    aliased_bot: Any, signed: SignedSlackClient, slack: SlackStandIn, prod: dict[str, Any], ddb: Any
) -> None:
    started = full_text(reply(slack, signed, "/ddb-export", "prod:orders bucket=prod-backups"))
    assert "prod:orders" in started
    job = wait_until(
        lambda: next((j for j in aliased_bot.services.core.store.recent_exports("prod:orders") if j.finished), None),
        "the export of prod:orders to finish",
    )
    metadata = json.dumps({"export": job.export_arn, "channel": OPS})
    values = {
        "restore_target": {"value": {"type": "plain_text_input", "value": "prod:orders-from-form"}},
        "restore_mode": {"value": {"type": "radio_buttons", "selected_option": {"value": "to"}}},
    }
    response = signed.view_submission("restore_form", values, user_id=REQUESTER, private_metadata=metadata)
    assert response.status == 200 and response.body in ("", b""), response.body
    message = approval_message(slack)
    request = latest_request(aliased_bot)
    assert request.plan.alias == "prod" and request.plan.target == "orders-from-form"
    assert "prod:orders-from-form" in str(message.blocks)

    click(signed, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(aliased_bot, request.id, {RestoreStatus.SUCCEEDED, RestoreStatus.FAILED})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert "orders-from-form" in prod["dynamodb"].list_tables()["TableNames"]
    assert "orders-from-form" not in ddb.list_tables()["TableNames"], "not in the bot's own account"


def test_an_export_copied_from_an_account_without_an_alias_is_restored_saying_its_table_cannot_be_read(
    aliased_bot: Any, signed: SignedSlackClient, slack: SlackStandIn, s3: Any, ddb: Any
) -> None:
    location = write_full_export(
        s3, "acme-ddb-backups", "copied", [{"pk": {"S": "a"}, "sk": {"N": "1"}}], files=1, empty_files=0
    )
    key = location.folder + "manifest-summary.json"
    summary = json.loads(s3.get_object(Bucket="acme-ddb-backups", Key=key)["Body"].read())
    summary["tableArn"] = f"arn:aws:dynamodb:us-east-1:{STRANGER}:table/orders"
    rewritten = json.dumps(summary).encode()
    s3.put_object(Bucket="acme-ddb-backups", Key=key, Body=rewritten)
    checksum = base64.b64encode(hashlib.md5(rewritten, usedforsecurity=False).digest())  # a consistent export
    s3.put_object(Bucket="acme-ddb-backups", Key=location.folder + "manifest-summary.md5", Body=checksum)

    reply(slack, signed, "/ddb-restore", f"{location.url} to=orders-copied key=pk:S,sk:N")

    message = approval_message(slack)
    shown = full_text(message)
    assert f"is of table `orders` in account {STRANGER}, which the bot cannot read" in shown
    assert "its settings are not carried over" in shown and "which has no alias" not in shown
    request = latest_request(aliased_bot)
    click(signed, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(aliased_bot, request.id, {RestoreStatus.SUCCEEDED, RestoreStatus.FAILED})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert ddb.scan(TableName="orders-copied")["Count"] == 1
