"""User text that Slack would parse as a mention never reaches a message unescaped, in its blocks or in the
notification text Slack shows in pop-ups: end to end through the bot's HTTP endpoint, moto and the Slack stand-in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.demo.slack_standin import SlackStandIn
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.restore_flow import REQUESTER, RESTORE_SETTINGS, approval_message, ask, export_table
from tests.support.slack_requests import SignedSlackClient


@pytest.fixture
def restore_bot(start_bot: BotFactory) -> Any:
    return start_bot(**RESTORE_SETTINGS)


@pytest.fixture
def signed_restore(restore_bot: Any) -> SignedSlackClient:
    return SignedSlackClient(f"{restore_bot.url}/slack/events", SIGNING_SECRET)


def create_table_keyed_by(ddb: Any, table: str, key: str) -> None:
    """A table whose partition key is named `key` (DynamoDB takes any attribute name), with PITR on."""
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    ddb.put_item(TableName=table, Item={key: {"S": "one"}})


def test_a_key_named_like_a_channel_mention_is_escaped_in_the_approval_messages_notification_text(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    create_table_keyed_by(ddb, "events", "<!channel>")
    job = export_table(restore_bot, signed_restore, slack, "events")

    ask(signed_restore, slack, f"{job.export_arn} to=events-copy key=<!channel>:S")

    message = approval_message(slack)
    assert "<!channel>" not in message.text
    assert "key &lt;!channel&gt; (HASH)" in message.text
    assert "&amp;lt;" not in message.text  # escaped once, not twice
    reply = slack.wait_for(lambda m: m.user == REQUESTER and "waiting for" in m.text)
    for posted in (message, reply, *slack.messages()):
        assert "<!channel>" not in posted.text, posted.text
        assert "<!channel>" not in json.dumps(posted.blocks), posted.blocks
    assert [call.error for call in slack.calls if call.error] == []
