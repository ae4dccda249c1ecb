"""The stand-in keeps message metadata and answers conversations.history as Slack documents it (scopes, membership,
top-level messages newest first, `oldest`, pages, metadata only when asked), and can be told to refuse a channel;
the bot's note delivery finds its own stamped post there instead of posting twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.background.notes import NoteStamp
from bot.demo.slack_standin import SlackStandIn
from handlers.kit.blocks import message, section
from handlers.kit.delivery import HISTORY_PAGE, HISTORY_PAGES, NOTE_EVENT, deliver_message

STAMP = {"event_type": "ddbbot_note", "event_payload": {"note": "export:arn", "edition": "e1", "target": "C0OPS"}}


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as running:
        yield running


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test-token", base_url=standin.api_url)


def refusal(call: object) -> str:
    with pytest.raises(SlackApiError) as refused:
        call()  # type: ignore[operator]
    return str(refused.value.response["error"])


def test_metadata_is_kept_and_returned_only_when_asked_for(standin: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0OPS", text="export done", metadata=STAMP)
    client.chat_postMessage(channel="C0OPS", text="reply", thread_ts=posted["ts"])
    client.chat_postMessage(channel="C0OTHER", text="elsewhere")
    plain = client.conversations_history(channel="C0OPS")
    assert [m["text"] for m in plain["messages"]] == ["export done"], "thread replies stay in their thread"
    assert "metadata" not in plain["messages"][0]
    full = client.conversations_history(channel="C0OPS", include_all_metadata=True)
    assert full["messages"][0]["metadata"] == STAMP and full["messages"][0]["ts"] == posted["ts"]
    assert standin.messages("C0OPS")[0].metadata == STAMP


def test_malformed_metadata_is_refused_as_slack_refuses_it(client: WebClient) -> None:
    listed = {"channel": "C0OPS", "text": "x", "metadata": [1]}
    assert refusal(lambda: client.api_call("chat.postMessage", json=listed)) == "invalid_metadata_format"
    assert (
        refusal(lambda: client.chat_postMessage(channel="C0OPS", text="x", metadata={"event_payload": {}}))
        == "invalid_metadata_schema"
    )
    assert (
        refusal(
            lambda: client.chat_postMessage(channel="C0OPS", text="x", metadata={"event_type": "t", "event_payload": 3})
        )
        == "invalid_metadata_schema"
    )


def test_history_is_newest_first_after_oldest_in_pages(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C0OPS", text=f"m{i}")["ts"] for i in range(5)]
    after = client.conversations_history(channel="C0OPS", oldest=stamps[1], limit=2)
    assert [m["text"] for m in after["messages"]] == ["m4", "m3"] and after["has_more"]
    rest = client.conversations_history(
        channel="C0OPS", oldest=stamps[1], limit=2, cursor=after["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["m2"] and not rest["has_more"], "oldest is exclusive"
    assert refusal(lambda: client.conversations_history(channel="C0OPS", oldest="yesterday")) == "invalid_ts_oldest"
    assert float(stamps[0]) == pytest.approx(time.time(), abs=60), "a ts is the posting time, as Slack's"


def test_history_needs_its_scope_and_membership(standin: SlackStandIn, client: WebClient) -> None:
    standin.scopes.discard("groups:history")
    assert refusal(lambda: client.conversations_history(channel="G0PRIVATE")) == "missing_scope"
    assert client.conversations_history(channel="C0OPS")["ok"], "public channels need channels:history only"
    standin.refuse_channel("C0GONE", "not_in_channel")
    assert refusal(lambda: client.conversations_history(channel="C0GONE")) == "not_in_channel"
    assert refusal(lambda: client.chat_postMessage(channel="C0GONE", text="x")) == "not_in_channel"
    standin.allow_channel("C0GONE")
    assert client.chat_postMessage(channel="C0GONE", text="x")["ok"], "invited again"


def stamp(recheck: bool, since: datetime | None = None) -> NoteStamp:
    return NoteStamp("export:arn", "e1", "C0OPS", since or datetime.now(UTC), recheck)


def test_a_delivery_in_doubt_finds_its_own_post_and_does_not_post_again(
    standin: SlackStandIn, client: WebClient
) -> None:
    note = message("export done", section("export done"))
    first = deliver_message(client, note, stamp(False))
    assert first.delivered and first.ts
    again = deliver_message(client, note, stamp(True))
    assert again.delivered and again.ts == first.ts, "found by its stamp"
    assert len(standin.messages("C0OPS")) == 1
    (posted,) = standin.messages("C0OPS")
    assert posted.metadata == {"event_type": NOTE_EVENT, "event_payload": stamp(False).payload()}
    other_edition = NoteStamp("export:arn", "e2", "C0OPS", datetime.now(UTC), recheck=True)
    assert deliver_message(client, note, other_edition).delivered
    assert len(standin.messages("C0OPS")) == 2, "new news under the same key is posted"


def test_a_delivery_in_doubt_posts_again_when_the_channel_cannot_be_read(
    standin: SlackStandIn, client: WebClient
) -> None:
    note = message("export done", section("export done"))
    deliver_message(client, note, stamp(False))
    standin.scopes.discard("channels:history")
    assert deliver_message(client, note, stamp(True)).delivered
    assert len(standin.messages("C0OPS")) == 2, "at least once when the stamp cannot be looked for"


def test_a_post_before_the_note_was_laid_out_is_not_looked_at(standin: SlackStandIn, client: WebClient) -> None:
    note = message("export done", section("export done"))
    deliver_message(client, note, stamp(False))
    later = stamp(True, since=datetime.now(UTC) + timedelta(hours=1))
    assert deliver_message(client, note, later).delivered
    assert len(standin.messages("C0OPS")) == 2
    (looked,) = [c for c in standin.calls if c.method == "conversations.history"]
    assert float(looked.params["oldest"]) > time.time()


def test_slack_answers_become_delivery_outcomes(standin: SlackStandIn, client: WebClient) -> None:
    note = message("export done", section("export done"))
    standin.refuse_channel("C0OPS", "is_archived")
    refused = deliver_message(client, note, stamp(False))
    assert (refused.delivered, refused.retry, refused.reason) == (False, False, "Slack answered `is_archived`")
    standin.refuse_channel("C0OPS", "internal_error")
    waiting = deliver_message(client, note, stamp(False))
    assert (waiting.delivered, waiting.retry) == (False, True), "Slack's own trouble may pass: not counted"
    standin.allow_channel("C0OPS")
    assert deliver_message(client, note, stamp(False), fallback=lambda: False).delivered


def test_a_message_whose_layout_slack_refuses_is_delivered_as_plain_text_with_its_stamp(
    standin: SlackStandIn, client: WebClient
) -> None:
    standin.fail_next("chat.postMessage", error="invalid_blocks")
    result = deliver_message(client, message("export done", section("export done")), stamp(False))
    assert result.delivered
    (posted,) = standin.messages("C0OPS")
    assert posted.text.startswith("export done") and "Slack refused them" in posted.text and posted.blocks == []
    assert posted.metadata == {"event_type": NOTE_EVENT, "event_payload": stamp(False).payload()}


def test_a_busy_channel_is_read_back_only_so_far_then_posted_to_again(
    standin: SlackStandIn, client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Hostile input for the look-back: a channel where thousands of messages came after the note's post (a flood,
    or a channel whose pages never end). The delivery reads at most HISTORY_PAGES pages and then posts again (at
    least once), instead of reading without end."""
    note = message("export done", section("export done"))
    deliver_message(client, note, stamp(False))
    for n in range(HISTORY_PAGE * HISTORY_PAGES + 1):
        client.chat_postMessage(channel="C0OPS", text=f"chatter {n}")
    calls_before = len(standin.calls)

    assert deliver_message(client, note, stamp(True)).delivered
    looked = [c for c in standin.calls[calls_before:] if c.method == "conversations.history"]
    assert len(looked) == HISTORY_PAGES, "bounded: the stamp is past what the bot reads back"
    assert [m.text for m in standin.messages("C0OPS")].count("export done") == 2
    assert any(r.getMessage() == "note.history_too_long" for r in caplog.records)


def test_a_stamp_of_another_note_edition_or_channel_is_not_taken_for_this_delivery(
    standin: SlackStandIn, client: WebClient
) -> None:
    """A post carrying a stamp that differs in any part (note, edition, channel) is someone else's delivery."""
    note = message("export done", section("export done"))
    for payload in (
        {"note": "export:other", "edition": "e1", "target": "C0OPS"},
        {"note": "export:arn", "edition": "e0", "target": "C0OPS"},
        {"note": "export:arn", "edition": "e1", "target": "C0OTHER"},
        {"note": "export:arn", "edition": "e1", "target": "C0OPS", "extra": "x"},
    ):
        client.chat_postMessage(
            channel="C0OPS", text="look-alike", metadata={"event_type": NOTE_EVENT, "event_payload": payload}
        )
    client.chat_postMessage(channel="C0OPS", text="other app", metadata={"event_type": "x", "event_payload": {}})
    assert deliver_message(client, note, stamp(True)).delivered
    assert [m.text for m in standin.messages("C0OPS")].count("export done") == 1, "posted: no look-alike counted"


def test_replies_are_the_thread_parent_first_then_oldest_first_and_need_what_history_needs(
    standin: SlackStandIn, client: WebClient
) -> None:
    parent = client.chat_postMessage(channel="C0OPS", text="parent")["ts"]
    client.chat_postMessage(channel="C0OPS", text="elsewhere")
    for n in range(3):
        client.chat_postMessage(channel="C0OPS", text=f"reply {n}", thread_ts=parent, metadata=STAMP)
    replies = client.conversations_replies(channel="C0OPS", ts=parent, include_all_metadata=True, limit=2)
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply 0"] and replies["has_more"]
    assert replies["messages"][1]["metadata"] == STAMP
    cursor = replies["response_metadata"]["next_cursor"]
    rest = client.conversations_replies(channel="C0OPS", ts=parent, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["reply 1", "reply 2"] and "metadata" not in rest["messages"][0]
    assert refusal(lambda: client.conversations_replies(channel="C0OPS", ts="1.000001")) == "thread_not_found"
    standin.refuse_channel("C0OPS", "not_in_channel")
    assert refusal(lambda: client.conversations_replies(channel="C0OPS", ts=parent)) == "not_in_channel"


def test_a_thread_reply_in_doubt_is_found_in_its_thread_and_not_posted_again(
    standin: SlackStandIn, client: WebClient
) -> None:
    parent = client.chat_postMessage(channel="C0OPS", text="the approval message")["ts"]
    note = message("restore finished", section("restore finished"))
    laid_out = datetime.now(UTC)
    sent = NoteStamp("restore:r-1", "", "thread:C0OPS", laid_out)
    first = deliver_message(client, note, sent, thread_ts=parent)
    assert first.delivered
    again = deliver_message(
        client, note, NoteStamp("restore:r-1", "", "thread:C0OPS", laid_out, True), thread_ts=parent
    )
    assert again.delivered and again.ts == first.ts, "found in the thread by its stamp"
    assert [m.text for m in standin.messages("C0OPS") if m.thread_ts == parent] == ["restore finished"]
    looked = [c for c in standin.calls if c.method.startswith("conversations.")]
    assert [c.method for c in looked] == ["conversations.replies"]
