"""An export's result fans out to its channels (where it was asked, and the notification channel): each channel is
delivered once, on its own. A channel Slack refuses is tried again alone, then given up, counted, logged and reported
where the result did arrive; the channels that took it never see it twice.

Through the bot's signed endpoint (`/ddb-export`), moto's server, and the Slack stand-in told to refuse one channel.
"""

from __future__ import annotations

import pytest

from bot.demo.slack_standin import SlackStandIn
from bot.metrics import REGISTRY
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import NOTIFY, OPS, SIGNING_SECRET, BotFactory
from tests.support.restore_flow import export_table
from tests.support.schedules import text_of, wait_until
from tests.support.slack_requests import SignedSlackClient


def posts_to(slack: SlackStandIn, channel: str) -> list[str | None]:
    """What Slack answered to each chat.postMessage in `channel` (None: ok)."""
    return [c.error for c in slack.calls if c.method == "chat.postMessage" and c.params.get("channel") == channel]


def test_a_result_whose_notification_channel_refuses_reaches_the_other_once_and_the_refusal_is_reported(
    start_bot: BotFactory, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    given_up = {"kind": "note", "outcome": "given_up"}
    before = REGISTRY.get_sample_value("ddbbot_work_targets_total", given_up) or 0.0
    slack.refuse_channel(NOTIFY, "channel_not_found")
    bot: BotRuntime = start_bot(work_max_attempts=3)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = export_table(bot, signed, slack, "orders")

    report = slack.wait_for(lambda m: m.channel == OPS and "could not be posted" in m.text, timeout=20)
    assert f"<#{NOTIFY}>" in text_of(report) and "after 3 attempts" in text_of(report)
    assert "channel_not_found" in text_of(report) and "/invite" in text_of(report)
    results = [m for m in slack.messages(OPS) if job.export_id in m.text and "COMPLETED" in m.text]
    assert len(results) == 1, "the channel that took it got it once, however often the other was retried"
    assert posts_to(slack, NOTIFY) == ["channel_not_found"] * 3, "the refusing channel tried alone, 3 times"
    assert posts_to(slack, OPS) == [None, None], "the result and the report, each once"
    assert REGISTRY.get_sample_value("ddbbot_work_targets_total", given_up) == before + 1
    assert any(r.getMessage() == "work.target_given_up" and r.__dict__.get("target") == NOTIFY for r in caplog.records)
    wait_until(lambda: not bot.services.core.store.unposted_results() or None, "the result recorded as told")


def test_a_channel_that_refuses_for_a_while_gets_the_result_once_it_takes_it(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    slack.refuse_channel(NOTIFY, "not_in_channel")
    bot: BotRuntime = start_bot(work_max_attempts=5)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = export_table(bot, signed, slack, "orders")
    wait_until(lambda: posts_to(slack, NOTIFY) or None, "a first refused post", timeout=15)
    slack.allow_channel(NOTIFY)  # the bot was invited
    slack.wait_for(lambda m: m.channel == NOTIFY and job.export_id in m.text, timeout=15)
    assert [m for m in slack.messages(OPS) if job.export_id in m.text and "COMPLETED" in m.text][1:] == []
    assert not [m for m in slack.messages() if "could not be posted" in m.text], "nothing given up"


def test_a_channel_slack_cannot_take_now_is_retried_alone_and_the_other_never_gets_it_twice(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    slack.refuse_channel(NOTIFY, "internal_error")  # Slack's trouble with that channel: may pass, not counted
    bot: BotRuntime = start_bot(work_max_attempts=2)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = export_table(bot, signed, slack, "orders")
    wait_until(lambda: len(posts_to(slack, NOTIFY)) >= 4 or None, "several tries of the failing channel", timeout=20)
    slack.allow_channel(NOTIFY)
    slack.wait_for(lambda m: m.channel == NOTIFY and job.export_id in m.text, timeout=15)
    results = [m for m in slack.messages(OPS) if job.export_id in m.text and "COMPLETED" in m.text]
    assert len(results) == 1, "the channel that took it is never posted again while the other is retried"
    assert not [m for m in slack.messages() if "could not be posted" in m.text], "a wait is not a refusal"
