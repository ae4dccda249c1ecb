"""A restore's end is told to each of its destinations on its own (issue 18.4): the reply in the approval thread, the
edit of the approval message, the requester's direct messages and the notification channel. A destination Slack
refuses is tried again alone, given up, and reported to the requester; one Slack cannot take now waits and is
delivered once; the others are never posted twice.

Through the bot's signed endpoint (`/ddb-export`, `/ddb-restore`, the Approve click), moto's server, and the Slack
stand-in told to refuse or rate-limit one destination.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.models import ExportJob
from bot.restores.models import RestoreStatus
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import NOTIFY, SIGNING_SECRET, BotFactory
from tests.support.restore_flow import (
    APPROVALS,
    APPROVER,
    REQUESTER,
    RESTORE_SETTINGS,
    approval_message,
    ask,
    click,
    export_table,
    latest_request,
    wait_for_status,
)
from tests.support.schedules import text_of, wait_until
from tests.support.slack_requests import SignedSlackClient


def restored(
    bot: BotRuntime, slack: SlackStandIn, exported: Callable[[ExportJob], None] = lambda job: None
) -> tuple[str, PostedMessage]:
    """Export `orders` (then `exported(job)`), ask to restore it into a new table, approve it, and wait until it
    SUCCEEDED: the request's id and its approval message."""
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = export_table(bot, signed, slack, "orders")
    exported(job)
    ask(signed, slack, f"{job.export_arn} to=orders-copy")
    message = approval_message(slack)
    request = latest_request(bot)
    click(signed, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(bot, request.id, {RestoreStatus.SUCCEEDED, RestoreStatus.FAILED})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    return request.id, message


def ends(slack: SlackStandIn, channel: str, request_id: str) -> list[PostedMessage]:
    """The request's end as posted in `channel` (its thread replies included)."""
    return [m for m in slack.messages(channel) if request_id in text_of(m) and "finished" in text_of(m)]


def calls_to(slack: SlackStandIn, method: str, channel: str) -> list[str | None]:
    """What Slack answered to each `method` call for `channel` (None: ok)."""
    return [c.error for c in slack.calls if c.method == method and c.params.get("channel") == channel]


def stamped_posts(slack: SlackStandIn, note: str) -> list[tuple[str, str | None]]:
    """(target, Slack's error) of each chat.postMessage that carried `note`'s stamp."""
    stamps = [(c.params.get("metadata") or {}).get("event_payload") or {} for c in slack.calls]
    return [
        (stamp["target"], c.error)
        for c, stamp in zip(slack.calls, stamps, strict=True)
        if c.method == "chat.postMessage" and stamp.get("note") == note
    ]


def settled_edit(slack: SlackStandIn, message: PostedMessage) -> PostedMessage:
    """The approval message once edited to say the restore finished."""
    return slack.wait_for(lambda m: m.ts == message.ts and "Finished: see the thread" in text_of(m))


def test_a_restore_whose_notification_channel_is_archived_reaches_the_thread_and_requester_once_and_the_requester_is_told(
    start_bot: BotFactory, slack: SlackStandIn, ddb: Any
) -> None:
    slack.refuse_channel(NOTIFY, "is_archived")
    bot = start_bot(work_max_attempts=2, **RESTORE_SETTINGS)
    request_id, message = restored(bot, slack)

    report = slack.wait_for(
        lambda m: m.channel == REQUESTER and "could not be posted" in m.text and request_id in m.text, timeout=30
    )
    assert (
        f"<#{NOTIFY}>" in text_of(report) and "is_archived" in text_of(report) and "after 2 attempts" in text_of(report)
    )
    replies = [m for m in ends(slack, APPROVALS, request_id) if m.thread_ts == message.ts]
    assert len(replies) == 1, "the thread reply once, however often the archived channel was tried"
    assert len(ends(slack, REQUESTER, request_id)) == 1, "the requester's summary once"
    assert settled_edit(slack, message).updates >= 1
    posts = stamped_posts(slack, f"restore:{request_id}")
    assert [error for target, error in posts if target == NOTIFY] == ["is_archived"] * 2, "tried alone, twice"
    assert [error for target, error in posts if target != NOTIFY] == [None, None], "the thread and the DM, once each"
    edits = [c for c in slack.calls if c.method == "chat.update" and c.params.get("ts") == message.ts]
    assert [c.error for c in edits][-1:] == [None]


def test_a_rate_limited_destination_waits_alone_and_gets_the_end_once(
    start_bot: BotFactory, slack: SlackStandIn, ddb: Any
) -> None:
    """Slack's client waits out ten 429s itself; the eleventh answer reaches the bot, which waits without counting an
    attempt (one allowed here) and delivers that destination alone on a later pass."""
    bot = start_bot(work_max_attempts=1, **RESTORE_SETTINGS)

    def limit_the_notification_channel(job: ExportJob) -> None:
        slack.wait_for(lambda m: m.channel == NOTIFY and job.export_id in m.text)  # the export's own result first
        slack.fail_next("chat.postMessage", status=429, retry_after=0, count=11, channel=NOTIFY)

    request_id, message = restored(bot, slack, limit_the_notification_channel)

    wait_until(lambda: ends(slack, NOTIFY, request_id) or None, "the notification channel told", timeout=30)
    posts = stamped_posts(slack, f"restore:{request_id}")
    assert [error for target, error in posts if target == NOTIFY] == ["ratelimited"] * 11 + [None]
    assert [error for target, error in posts if target != NOTIFY] == [None, None], "the others once, never again"
    assert len(ends(slack, NOTIFY, request_id)) == 1, "delivered once after the wait"
    assert len(ends(slack, REQUESTER, request_id)) == 1
    assert len([m for m in ends(slack, APPROVALS, request_id) if m.thread_ts == message.ts]) == 1
    assert settled_edit(slack, message)
    assert not [m for m in slack.messages() if "could not be posted" in m.text], "a wait is not a refusal"
