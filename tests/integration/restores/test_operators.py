"""Only operators may request restores (DDBBOT_OPERATORS), by the command or the Restore… form; anyone may list
exports. End to end through the bot, moto and the Slack stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from bot.demo.slack_standin import SlackStandIn
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.restore_flow import (
    APPROVALS,
    OPS,
    OUTSIDER,
    REQUESTER,
    RESTORE_SETTINGS,
    approval_message,
    ask,
    export_table,
    latest_request,
    wait_until,
)
from tests.support.slack_requests import SignedSlackClient

FORM_VALUES = {
    "restore_target": {"value": {"type": "plain_text_input", "value": "orders-from-form"}},
    "restore_mode": {"value": {"type": "radio_buttons", "selected_option": {"value": "to"}}},
}


@pytest.fixture
def operator_bot(start_bot: BotFactory) -> Any:
    return start_bot(**RESTORE_SETTINGS, operators=[REQUESTER])


@pytest.fixture
def signed(operator_bot: Any) -> SignedSlackClient:
    return SignedSlackClient(f"{operator_bot.url}/slack/events", SIGNING_SECRET)


def _audited(bot: Any, action: str, actor: str) -> list[str]:
    return [e["result"] for e in bot.services.core.store.audit_entries(action=action) if e["actor"] == actor]


def test_a_restore_asked_by_a_non_operator_is_refused_and_audited_while_listing_stays_open(
    operator_bot: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    job = export_table(operator_bot, signed, slack, "orders")

    ask(signed, slack, f"{job.export_arn} to=orders-sneaky", user=OUTSIDER)
    refusal = slack.wait_for(lambda m: m.channel == OPS and m.user == OUTSIDER and "Only operators" in m.text)
    assert "request restores" in refusal.text
    assert "Who can help: <@" in str(refusal.blocks) and "DDBBOT_" not in str(refusal.blocks)
    assert _audited(operator_bot, "restore.request", OUTSIDER)[0].startswith("refused: Only operators")
    command_audit = wait_until(lambda: _audited(operator_bot, "/ddb-restore", OUTSIDER), "the command's audit entry")
    assert command_audit[0].startswith("refused: Only operators"), "written after the reply: waited for, not raced"

    ask(signed, slack, "orders", user=OUTSIDER)
    slack.wait_for(lambda m: m.channel == OPS and m.user == OUTSIDER and "Exports of orders" in m.text)
    assert not slack.messages(APPROVALS), "nothing was asked for approval"

    ask(signed, slack, f"{job.export_arn} to=orders-allowed", user=REQUESTER)
    assert "orders-allowed" in str(approval_message(slack).blocks)


def test_the_restore_form_is_refused_to_a_non_operator_at_both_ends(
    operator_bot: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    job = export_table(operator_bot, signed, slack, "orders")
    signed.click(
        "restore_open_form",
        job.export_arn,
        message_ts="1.000001",
        channel_id=OPS,
        user_id=OUTSIDER,
        response_url=slack.response_url(OPS, user=OUTSIDER),
    )
    slack.wait_for(lambda m: m.ephemeral and m.user == OUTSIDER and "Only operators" in m.text)
    assert _audited(operator_bot, "restore.form", OUTSIDER)[0].startswith("refused: Only operators")
    assert not [c for c in slack.calls if c.method == "views.open"], "no form for a non-operator"

    # A submission forged or made from a form opened before the user was removed is refused all the same.
    metadata = f'{{"export": "{job.export_arn}", "channel": "{OPS}"}}'
    response = signed.view_submission("restore_form", FORM_VALUES, user_id=OUTSIDER, private_metadata=metadata)
    assert response.status == 200
    told = slack.wait_for(lambda m: m.via == "chat.postEphemeral" and m.user == OUTSIDER and "Only operators" in m.text)
    assert told.channel == OPS
    assert _audited(operator_bot, "restore.request", OUTSIDER)[0].startswith("refused: Only operators")
    assert not slack.messages(APPROVALS)

    response = signed.view_submission("restore_form", FORM_VALUES, user_id=REQUESTER, private_metadata=metadata)
    assert response.status == 200
    approval_message(slack)
    wait_until(lambda: latest_request(operator_bot).requested_by == REQUESTER, "the operator's request stored")
