"""AWS refusals become what the user must fix (AWS answers through a fault-injecting front for moto)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.aws_proxy import AwsFaultProxy, Fault, fixed_faults
from tests.support.slack_requests import SignedSlackClient


def answer(start_bot: BotFactory, slack: Any, text: str) -> str:
    runtime = start_bot()
    signed = SignedSlackClient(f"{runtime.url}/slack/events", SIGNING_SECRET)
    assert signed.command("/ddb-export", text, response_url=slack.response_url(OPS)).status == 200
    message = slack.wait_for(lambda m: m.via == "response_url" and not m.text.startswith(":hourglass"), timeout=60)
    return message.text + json.dumps(message.blocks)


def test_access_denied_on_another_accounts_bucket_names_the_missing_policy_statement(
    world: str, start_bot: BotFactory, slack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = fixed_faults(
        {"ExportTableToPointInTime": Fault(400, "AccessDeniedException", "Access denied to the S3 bucket")}
    )
    with AwsFaultProxy(world, faults) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        text = answer(start_bot, slack, "orders bucket=central-backups owner=222222222222")
    assert "could not write to bucket `central-backups` owned by account 222222222222" in text
    assert "AllowDdbBackupBotExports" in text
    assert "s3:PutObject, s3:AbortMultipartUpload and s3:PutObjectAcl" in text
    assert "arn:aws:s3:::central-backups/dynamodb-exports/*" in text
    assert "Nothing was started" in text


def test_the_bots_own_missing_permission_is_named(
    world: str, start_bot: BotFactory, slack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = fixed_faults({"ExportTableToPointInTime": Fault(400, "AccessDeniedException", "User is not authorized")})
    with AwsFaultProxy(world, faults) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        text = answer(start_bot, slack, "orders")
    assert "Grant `dynamodb:ExportTableToPointInTime` to the bot's role" in text


def test_the_concurrent_export_limit_is_explained(
    world: str, start_bot: BotFactory, slack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = fixed_faults({"ExportTableToPointInTime": Fault(400, "LimitExceededException", "Too many exports")})
    with AwsFaultProxy(world, faults) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        text = answer(start_bot, slack, "orders")
    assert "300 concurrent exports" in text
