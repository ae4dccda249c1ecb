"""A call Slack refuses is a failure, never "ok" (ARCHITECTURE.md principle 19): a command whose answer Slack refuses
is audited as failed with a reference that is in the logs, and the asker is told in plain text; a result Slack
refuses the blocks of still reaches its channel as text. Through the running bot, the Slack stand-in refusing as
Slack refuses (`fail_next`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.demo.slack_standin import SlackStandIn
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import NOTIFY, OPS
from tests.support.aws_world import exports_held
from tests.support.restore_flow import wait_until
from tests.support.slack_requests import SignedSlackClient


def audit_of(bot: BotRuntime, action: str) -> dict[str, Any] | None:
    entries = bot.services.core.store.audit_entries(action=action)
    return entries[0] if entries else None


@pytest.mark.parametrize("refusal", ["invalid_blocks", "expired_url"])
def test_a_command_answer_slack_refuses_is_audited_as_failed_with_the_logged_reference_and_the_asker_is_told(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, caplog: pytest.LogCaptureFixture, refusal: str
) -> None:
    slack.fail_next("response_url", error=refusal)
    response = signed.command("/ddb-pitr", "orders", response_url=slack.response_url(OPS, user="U0ALICE"))
    assert response.status == 200

    entry = wait_until(lambda: audit_of(bot, "/ddb-pitr"), "the command's audit entry")
    assert entry["result"].startswith(f"failed: answer refused by Slack ({refusal}); reference ")
    reference = entry["result"].rsplit(" ", 1)[-1]
    assert re.fullmatch(r"[0-9a-f]{8}", reference)
    logged = [r for r in caplog.records if getattr(r, "reference", None) == reference]
    assert [(r.levelname, r.getMessage(), getattr(r, "slack_error", None)) for r in logged] == [
        ("ERROR", "slack.answer_refused", refusal)
    ]
    told = slack.wait_for(lambda m: m.channel == OPS and reference in m.text)
    assert told.ephemeral and told.user == "U0ALICE" and "Slack refused to show my answer" in told.text
    assert told.blocks == [], "plain text: what Slack refused was the blocks"
    assert [c.error for c in slack.calls if c.method == "response_url"] == [refusal, None]


def test_a_command_answer_slack_takes_is_audited_ok(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    signed.command("/ddb-pitr", "orders", response_url=slack.response_url(OPS))

    slack.wait_for(lambda m: m.channel == OPS and "PITR is" in m.text)
    assert wait_until(lambda: audit_of(bot, "/ddb-pitr"), "the command's audit entry")["result"] == "ok"


def test_an_export_result_whose_blocks_slack_refuses_still_reaches_the_channel_as_text_with_a_reference(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    with exports_held() as release:
        signed.command("/ddb-export", "orders", response_url=slack.response_url(OPS))
        job = wait_until(lambda: next(iter(bot.services.core.store.recent_exports("orders")), None), "export started")
        slack.fail_next("chat.postMessage", error="invalid_blocks")  # the first result post: the asking channel
        release.set()

    plain = slack.wait_for(lambda m: m.channel == OPS and "Details could not be shown" in m.text, timeout=20)
    assert job.export_id in plain.text and "COMPLETED" in plain.text and plain.blocks == []
    reference = re.findall(r"reference `([0-9a-f]{8})`", plain.text)[0]
    assert [r.levelname for r in caplog.records if getattr(r, "reference", None) == reference] == ["ERROR"]
    full = slack.wait_for(lambda m: m.channel == NOTIFY and "COMPLETED" in m.text)
    assert full.blocks, "the other channel got the whole message"
