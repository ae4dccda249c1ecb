"""The Slack stand-in and the signed client must act like Slack to real slack_sdk code, or the demo lies."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from bot.demo.__main__ import FAKE_BOT_TOKEN
from bot.demo.slack_standin import PostedMessage, SlackStandIn
from tests.support.slack_requests import SignedSlackClient, SlackHttpResponse

SIGNING_SECRET = "test-signing-secret"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*orders*: export started"}}
DONE = {"type": "section", "text": {"type": "mrkdwn", "text": "*orders*: export done"}}


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(usergroups={"S0ADMINS": ["U0ALICE", "U0BOB"]}) as running:
        yield running


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test-token", base_url=standin.api_url)


def post_json(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --------------------------------------------------------------------------------------------- Web API


def test_web_client_posts_updates_threads_and_lists_a_user_group(standin: SlackStandIn, client: WebClient) -> None:
    auth = client.auth_test()
    assert (auth["user_id"], auth["team_id"], auth["bot_id"]) == ("UBOT", "T0DEMO", "B0DEMO")

    posted = client.chat_postMessage(channel="C0OPS", text="export started", blocks=[SECTION])
    parent_ts = posted["ts"]
    assert posted["message"]["blocks"] == [SECTION]
    client.chat_update(channel="C0OPS", ts=parent_ts, text="export done", blocks=[DONE])
    reply = client.chat_postMessage(channel="C0OPS", thread_ts=parent_ts, text="s3://bucket/orders/")
    members = client.usergroups_users_list(usergroup="S0ADMINS")

    assert members["users"] == ["U0ALICE", "U0BOB"]
    parent, threaded = standin.messages("C0OPS")
    assert (parent.ts, parent.text, parent.blocks, parent.updates) == (parent_ts, "export done", [DONE], 1)
    assert (parent.via, parent.ephemeral, parent.thread_ts) == ("chat.postMessage", False, None)
    assert (threaded.ts, threaded.thread_ts) == (reply["ts"], parent_ts)
    assert float(reply["ts"]) > float(parent_ts)
    assert [call.method for call in standin.calls] == [
        "auth.test",
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
        "usergroups.users.list",
    ]
    assert all(call.status == 200 and "token" not in call.params for call in standin.calls)
    assert standin.calls[1].params["blocks"] == [SECTION]


def test_form_encoded_blocks_are_decoded(standin: SlackStandIn, client: WebClient) -> None:
    client.api_call("chat.postMessage", params={"channel": "C0OPS", "blocks": json.dumps([SECTION])})

    assert standin.calls[-1].params["blocks"] == [SECTION]
    assert standin.messages("C0OPS")[0].blocks == [SECTION]


def test_slack_errors_are_answered_like_slack(standin: SlackStandIn, client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="message_not_found"):
        client.chat_update(channel="C0OPS", ts="1.000000", text="x")
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        client.usergroups_users_list(usergroup="S0NOPE")
    with pytest.raises(SlackApiError, match="not_authed"):
        WebClient(base_url=standin.api_url).chat_postMessage(channel="C0OPS", text="x")
    ephemeral_ts = client.chat_postEphemeral(channel="C0OPS", user="U0ALICE", text="only you")["message_ts"]
    with pytest.raises(SlackApiError, match="cant_update_message"):
        client.chat_update(channel="C0OPS", ts=ephemeral_ts, text="x")

    (only_message,) = standin.messages()
    assert (only_message.ephemeral, only_message.user, only_message.via) == (
        True,
        "U0ALICE",
        "chat.postEphemeral",
    )


def test_delete_views_and_lookups(standin: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0OPS", text="temporary")["ts"]
    client.chat_delete(channel="C0OPS", ts=ts)
    view = client.views_open(
        trigger_id="1.2.3",
        view={
            "type": "modal",
            "callback_id": "restore",
            "title": {"type": "plain_text", "text": "Restore"},
            "blocks": [],
        },
    )
    user = client.users_info(user="U0ALICE")

    assert standin.messages() == []
    assert view["view"]["id"].startswith("V")
    assert view["view"]["callback_id"] == "restore"
    assert user["user"]["tz"] == "UTC"
    assert client.conversations_info(channel="C0OPS")["channel"]["id"] == "C0OPS"


def test_listeners_see_new_and_updated_messages(standin: SlackStandIn, client: WebClient) -> None:
    seen: list[tuple[str, int]] = []
    standin.listeners.append(lambda message: seen.append((message.text, message.updates)))

    ts = client.chat_postMessage(channel="C0OPS", text="started")["ts"]
    client.chat_update(channel="C0OPS", ts=ts, text="done")

    assert seen == [("started", 0), ("done", 1)]


def test_rate_limited_post_is_retried_and_arrives_once(standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "random", lambda: 0.0)  # no jitter on top of Retry-After: 0
    standin.fail_next("chat.postMessage", status=429, retry_after=0)
    retrying = WebClient(
        token="xoxb-test-token",
        base_url=standin.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )

    retrying.chat_postMessage(channel="C0OPS", text="hello")

    assert [call.status for call in standin.calls if call.method == "chat.postMessage"] == [429, 200]
    assert [message.text for message in standin.messages("C0OPS")] == ["hello"]


def test_rate_limit_answer_carries_retry_after_and_creates_nothing(standin: SlackStandIn, client: WebClient) -> None:
    standin.fail_next("chat.update", status=429, retry_after=7)
    ts = client.chat_postMessage(channel="C0OPS", text="v1")["ts"]

    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C0OPS", ts=ts, text="v2")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] in ("7", ["7"])
    assert raised.value.response["error"] == "ratelimited"
    assert standin.messages("C0OPS")[0].text == "v1"


def test_a_failure_asked_for_one_channel_fails_only_that_channels_calls(
    standin: SlackStandIn, client: WebClient
) -> None:
    """Slack rate-limits chat.postMessage per channel: a limit on one channel leaves the others posting."""
    standin.fail_next("chat.postMessage", status=429, retry_after=3, count=2, channel="C0SLOW")
    assert client.chat_postMessage(channel="C0OPS", text="first")["ok"]
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="C0SLOW", text="held")
        assert raised.value.response.status_code == 429 and raised.value.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel="C0SLOW", text="now")["ok"]
    assert [m.text for m in standin.messages("C0SLOW")] == ["now"]
    assert [m.text for m in standin.messages("C0OPS")] == ["first"]


def test_an_edit_in_a_channel_that_no_longer_exists_is_refused_and_changes_nothing(
    standin: SlackStandIn, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel="C0GONE", text="v1")["ts"]
    standin.refuse_channel("C0GONE", "channel_not_found")
    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C0GONE", ts=ts, text="v2")
    assert raised.value.response["error"] == "channel_not_found"
    standin.refuse_channel("C0GONE", "not_in_channel")  # Slack documents no such refusal for chat.update
    assert client.chat_update(channel="C0GONE", ts=ts, text="v3")["ok"]
    standin.fail_next("chat.update", error="edit_window_closed", channel="C0GONE")
    with pytest.raises(SlackApiError) as closed:
        client.chat_update(channel="C0GONE", ts=ts, text="v4")
    assert closed.value.response["error"] == "edit_window_closed"
    assert standin.messages("C0GONE")[0].text == "v3"


# ------------------------------------------------------------------------------ strict like Slack: refusals


def test_a_method_the_stand_in_does_not_implement_answers_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("reactions.add", params={"name": "x", "channel": "C0OPS", "timestamp": "1.0"})

    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "unknown_method"


def test_a_token_it_was_not_told_to_accept_answers_invalid_auth(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(token="xoxb-someone-else", base_url=standin.api_url).chat_postMessage(channel="C0OPS", text="x")

    assert (raised.value.response.status_code, raised.value.response["error"]) == (200, "invalid_auth")
    assert standin.messages() == []
    assert standin.calls[-1].error == "invalid_auth"


def test_opening_a_socket_mode_connection_is_refused_as_slack_refuses_an_unknown_app_token_or_a_bot_token(
    standin: SlackStandIn, client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as unknown:
        client.apps_connections_open(app_token="xapp-1-A0-1-not-an-app-it-knows")
    with pytest.raises(SlackApiError) as bot_token:
        client.apps_connections_open(app_token="xoxb-test-token")

    assert unknown.value.response["error"] == "invalid_auth"
    assert bot_token.value.response["error"] == "not_allowed_token_type"
    assert [call.method for call in standin.calls] == ["apps.connections.open"] * 2


def test_the_tokens_of_the_tests_and_the_demo_are_accepted_by_default_and_the_set_is_configurable() -> None:
    with SlackStandIn() as default:
        for token in ("xoxb-test-token", FAKE_BOT_TOKEN):
            assert WebClient(token=token, base_url=default.api_url).auth_test()["ok"] is True
    with SlackStandIn(token={"xoxb-one", "xoxb-two"}) as chosen:
        assert WebClient(token="xoxb-two", base_url=chosen.api_url).auth_test()["ok"] is True
        with pytest.raises(SlackApiError, match="invalid_auth"):
            WebClient(token="xoxb-test-token", base_url=chosen.api_url).auth_test()


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def button(**changes: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain("Go"), "action_id": "go", "value": "v", **changes}


def with_confirm(**changes: Any) -> list[dict[str, Any]]:
    dialog = {
        "title": plain("Sure?"),
        "text": mrkdwn("Really"),
        "confirm": plain("Yes"),
        "deny": plain("No"),
        **changes,
    }
    return [{"type": "actions", "elements": [button(confirm=dialog)]}]


def select(option: dict[str, Any]) -> list[dict[str, Any]]:
    element = {"type": "static_select", "action_id": "pick", "placeholder": plain("Pick"), "options": [option]}
    return [{"type": "actions", "elements": [element]}]


# (what, blocks with n of it, Slack's limit, the JSON pointer its error names)
MESSAGE_LIMITS: list[tuple[str, Any, int, str]] = [
    ("blocks in a message", lambda n: [SECTION] * n, 50, "/blocks"),
    ("section text", lambda n: [{"type": "section", "text": mrkdwn("x" * n)}], 3000, "/blocks/0/text/text"),
    ("section fields", lambda n: [{"type": "section", "fields": [mrkdwn("f")] * n}], 10, "/blocks/0/fields"),
    (
        "section field text",
        lambda n: [{"type": "section", "fields": [mrkdwn("f" * n)]}],
        2000,
        "/blocks/0/fields/0/text",
    ),
    ("header text", lambda n: [{"type": "header", "text": plain("h" * n)}], 150, "/blocks/0/text/text"),
    (
        "button text",
        lambda n: [{"type": "actions", "elements": [button(text=plain("b" * n))]}],
        75,
        "/blocks/0/elements/0/text/text",
    ),
    (
        "button value",
        lambda n: [{"type": "actions", "elements": [button(value="v" * n)]}],
        2000,
        "/blocks/0/elements/0/value",
    ),
    (
        "action_id",
        lambda n: [{"type": "actions", "elements": [button(action_id="a" * n)]}],
        255,
        "/blocks/0/elements/0/action_id",
    ),
    ("block_id", lambda n: [{**SECTION, "block_id": "b" * n}], 255, "/blocks/0/block_id"),
    (
        "elements in an actions block",
        lambda n: [{"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(n)]}],
        25,
        "/blocks/0/elements",
    ),
    (
        "elements in a context block",
        lambda n: [{"type": "context", "elements": [mrkdwn("c")] * n}],
        10,
        "/blocks/0/elements",
    ),
    ("confirm title", lambda n: with_confirm(title=plain("t" * n)), 100, "/blocks/0/elements/0/confirm/title/text"),
    ("confirm text", lambda n: with_confirm(text=mrkdwn("t" * n)), 300, "/blocks/0/elements/0/confirm/text/text"),
    (
        "confirm button",
        lambda n: with_confirm(confirm=plain("c" * n)),
        30,
        "/blocks/0/elements/0/confirm/confirm/text",
    ),
    ("deny button", lambda n: with_confirm(deny=plain("d" * n)), 30, "/blocks/0/elements/0/confirm/deny/text"),
    (
        "option text",
        lambda n: select({"text": plain("o" * n), "value": "v"}),
        75,
        "/blocks/0/elements/0/options/0/text/text",
    ),
    (
        "option value",
        lambda n: select({"text": plain("o"), "value": "v" * n}),
        150,
        "/blocks/0/elements/0/options/0/value",
    ),
]


@pytest.mark.parametrize(("what", "blocks_of", "limit", "pointer"), MESSAGE_LIMITS, ids=[c[0] for c in MESSAGE_LIMITS])
def test_a_message_at_a_block_kit_limit_is_posted_and_one_over_it_is_refused_naming_the_limit(
    standin: SlackStandIn, client: WebClient, what: str, blocks_of: Any, limit: int, pointer: str
) -> None:
    client.chat_postMessage(channel="C0OPS", text="at the limit", blocks=blocks_of(limit))

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0OPS", text="over the limit", blocks=blocks_of(limit + 1))

    answer = raised.value.response
    assert (answer.status_code, answer["error"]) == (200, "invalid_blocks")
    (error,) = answer["errors"]
    assert error.endswith(f"[json-pointer:{pointer}]"), error
    assert f"{limit:,}" in error and f"{limit + 1:,}" in error, error
    assert answer["response_metadata"]["messages"] == [f"[ERROR] {error}"]
    assert [m.text for m in standin.messages("C0OPS")] == ["at the limit"]


def test_text_objects_must_be_plain_text_or_mrkdwn_and_headers_plain_text(client: WebClient) -> None:
    blocks = [
        {"type": "section", "text": {"type": "markdown", "text": "*x*"}},
        {"type": "header", "text": mrkdwn("Header")},
        {"type": "section", "text": mrkdwn("")},
    ]

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0OPS", text="x", blocks=blocks)

    assert raised.value.response["errors"] == [
        "section text must be of type plain_text or mrkdwn, not 'markdown' [json-pointer:/blocks/0/text/type]",
        "header text must be plain_text, not mrkdwn [json-pointer:/blocks/1/text/type]",
        "section text must have a non-empty text [json-pointer:/blocks/2/text/text]",
    ]


def test_every_broken_limit_is_listed_and_ephemeral_update_and_response_url_are_checked_too(
    standin: SlackStandIn, client: WebClient
) -> None:
    broken = [{"type": "header", "text": plain("h" * 151)}, {"type": "section", "text": mrkdwn("x" * 3001)}]
    ts = client.chat_postMessage(channel="C0OPS", text="v1", blocks=[SECTION])["ts"]

    with pytest.raises(SlackApiError) as ephemeral:
        client.chat_postEphemeral(channel="C0OPS", user="U0ALICE", text="x", blocks=broken)
    with pytest.raises(SlackApiError) as update:
        client.chat_update(channel="C0OPS", ts=ts, text="v2", blocks=broken)
    status, body = post_json(standin.response_url("C0OPS"), {"text": "x", "blocks": broken})

    assert [len(e.value.response["errors"]) for e in (ephemeral, update)] == [2, 2]
    assert ephemeral.value.response["errors"][0].endswith("[json-pointer:/blocks/0/text/text]")
    assert update.value.response["errors"][1].endswith("[json-pointer:/blocks/1/text/text]")
    assert (status, body["error"], len(body["errors"])) == (400, "invalid_blocks", 2)
    (kept,) = standin.messages()
    assert (kept.text, kept.blocks, kept.updates) == ("v1", [SECTION], 0)


def test_a_text_over_40000_characters_is_posted_cut_with_slacks_warning(
    standin: SlackStandIn, client: WebClient
) -> None:
    answer = client.chat_postMessage(channel="C0OPS", text="y" * 40_001)

    assert answer["warning"] == "message_truncated"
    assert answer["response_metadata"]["warnings"] == ["message_truncated"]
    assert len(standin.messages("C0OPS")[0].text) == 40_000


def test_what_slack_would_refuse_is_logged_for_the_demo_console_but_injected_failures_are_not(
    standin: SlackStandIn, client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    standin.fail_next("chat.postMessage", error="not_in_channel")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0OPS", text="injected")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0OPS", text="x", blocks=[{"type": "header", "text": plain("h" * 151)}])

    (record,) = [r for r in caplog.records if r.name == "bot.demo.slack_standin"]
    assert record.levelname == "WARNING"
    assert (record.getMessage(), record.method, record.slack_error) == (
        "slack_standin.refused",
        "chat.postMessage",
        "invalid_blocks",
    )
    assert record.details == ["header text must be at most 150 characters, not 151 [json-pointer:/blocks/0/text/text]"]


def modal(**changes: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "form",
        "title": plain("Restore an export"),
        "submit": plain("Ask"),
        "close": plain("Cancel"),
        "blocks": [SECTION],
        **changes,
    }


def text_input(label: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "target",
        "label": plain(label),
        "element": {"type": "plain_text_input", "action_id": "value"},
    }


VIEW_LIMITS: list[tuple[str, Any, int, str]] = [
    ("blocks in a modal", lambda n: modal(blocks=[SECTION] * n), 100, "/view/blocks"),
    ("modal title", lambda n: modal(title=plain("t" * n)), 24, "/view/title/text"),
    ("modal submit", lambda n: modal(submit=plain("s" * n)), 24, "/view/submit/text"),
    ("modal close", lambda n: modal(close=plain("c" * n)), 24, "/view/close/text"),
    ("input label", lambda n: modal(blocks=[text_input("l" * n)]), 2000, "/view/blocks/0/label/text"),
    ("private_metadata", lambda n: modal(private_metadata="m" * n), 3000, "/view/private_metadata"),
]


@pytest.mark.parametrize(("what", "view_of", "limit", "pointer"), VIEW_LIMITS, ids=[c[0] for c in VIEW_LIMITS])
def test_a_modal_at_a_limit_opens_and_one_over_it_is_refused_with_invalid_arguments(
    client: WebClient, what: str, view_of: Any, limit: int, pointer: str
) -> None:
    client.views_open(trigger_id="1.2.3", view=view_of(limit))
    client.views_update(view_id="V1", view=view_of(limit))

    for call in (
        lambda: client.views_open(trigger_id="1.2.3", view=view_of(limit + 1)),
        lambda: client.views_update(view_id="V1", view=view_of(limit + 1)),
    ):
        with pytest.raises(SlackApiError) as raised:
            call()
        (error,) = raised.value.response["errors"]
        assert raised.value.response["error"] == "invalid_arguments"
        assert error.endswith(f"[json-pointer:{pointer}]") and f"{limit + 1:,}" in error, error


def test_a_home_tab_takes_100_blocks_and_no_more(client: WebClient) -> None:
    client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [SECTION] * 100})

    with pytest.raises(SlackApiError) as raised:
        client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [SECTION] * 101})

    assert raised.value.response["errors"] == [
        "no more than 100 blocks are allowed here, not 101 [json-pointer:/view/blocks]"
    ]


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found", "invalid_blocks"])
def test_a_test_can_make_the_next_calls_of_a_method_fail_as_slack_refuses_them(
    standin: SlackStandIn, client: WebClient, error: str
) -> None:
    standin.fail_next("chat.postMessage", error=error, count=2)

    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="C0OPS", text="refused")
        assert (raised.value.response.status_code, raised.value.response["error"]) == (200, error)
    client.chat_postEphemeral(channel="C0OPS", user="U0ALICE", text="other methods are not affected")
    client.chat_postMessage(channel="C0OPS", text="the third goes through")

    assert [m.text for m in standin.messages("C0OPS")] == ["other methods are not affected", "the third goes through"]
    assert [c.error for c in standin.calls] == [error, error, None, None]


def test_an_injected_ratelimited_answers_429_with_retry_after(standin: SlackStandIn, client: WebClient) -> None:
    standin.fail_next("chat.update", error="ratelimited", retry_after=3)
    ts = client.chat_postMessage(channel="C0OPS", text="v1")["ts"]

    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C0OPS", ts=ts, text="v2")
    client.chat_update(channel="C0OPS", ts=ts, text="v3")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] in ("3", ["3"])
    assert standin.messages("C0OPS")[0].text == "v3"


# ----------------------------------------------------------------------------------------- response_url


def test_response_url_posts_are_ephemeral_and_replace_the_last_one(standin: SlackStandIn) -> None:
    url = standin.response_url("C0OPS", user="U0ALICE")
    assert url != standin.response_url("C0OPS")

    post_json(url, {"text": "Working on it"})
    post_json(url, {"text": "Export started", "replace_original": True})
    post_json(url, {"text": "Shared with the channel", "response_type": "in_channel"})
    post_json(url, {"delete_original": True})

    (reply,) = standin.messages("C0OPS")
    assert (reply.text, reply.updates, reply.ephemeral, reply.user, reply.via) == (
        "Export started",
        1,
        True,
        "U0ALICE",
        "response_url",
    )
    assert post_json(url, {"text": "fifth post is still allowed"})[0] == 200
    assert post_json(url, {"text": "sixth is not"}) == (404, {"ok": False, "error": "used_url"})
    assert [call.method for call in standin.calls] == ["response_url"] * 6


def test_response_url_from_a_click_replaces_the_clicked_message(standin: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0OPS", text="Approve restore?", blocks=[SECTION])["ts"]
    url = standin.response_url("C0OPS", original_ts=ts)

    post_json(url, {"text": "Approved by alice", "blocks": [DONE], "replace_original": "true"})

    (message,) = standin.messages("C0OPS")
    assert (message.ts, message.text, message.blocks, message.via) == (
        ts,
        "Approved by alice",
        [DONE],
        "chat.postMessage",
    )
    post_json(url, {"text": "Restored", "replace_original": True})
    (replaced,) = standin.messages("C0OPS")
    assert (replaced.text, replaced.blocks, replaced.updates) == ("Restored", [], 2)


def test_failed_response_url_post_creates_nothing(standin: SlackStandIn) -> None:
    standin.fail_next("response_url", status=500)

    assert post_json(standin.response_url("C0OPS"), {"text": "lost"})[0] == 500
    assert standin.messages() == []


# --------------------------------------------------------------------------------------------- wait_for


def test_wait_for_returns_a_message_posted_later(standin: SlackStandIn, client: WebClient) -> None:
    timer = threading.Timer(0.1, lambda: client.chat_postMessage(channel="C0OPS", text="export done"))
    timer.start()

    found = standin.wait_for(lambda message: "done" in message.text, timeout=30)

    assert found.channel == "C0OPS"


def test_wait_for_times_out_listing_what_it_saw(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C0OPS", text="export started")
    started = time.monotonic()

    with pytest.raises(AssertionError) as raised:
        standin.wait_for(lambda message: message.text == "export done", timeout=0.2)

    assert time.monotonic() - started < 5  # it gave up at its 0.2 s, not its default 60 s; 5 s: a busy machine
    report = str(raised.value)
    assert "no Slack message matched within 0.2s; 1 message(s) seen" in report
    assert "C0OPS" in report
    assert "'export started'" in report
    assert "chat.postMessage->200" in report


# ---------------------------------------------------------------------------------------- signed client


class _SignatureCheckingEcho(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        valid = SignatureVerifier(SIGNING_SECRET).is_valid_request(body, dict(self.headers.items()))
        answer = {
            "valid": valid,
            "body": body.decode(),
            "content_type": self.headers["Content-Type"],
            "has_signature": "X-Slack-Signature" in self.headers,
        }
        payload = json.dumps(answer).encode()
        self.send_response(200 if valid else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def signed_client() -> Iterator[SignedSlackClient]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SignatureCheckingEcho)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield SignedSlackClient(f"http://127.0.0.1:{server.server_address[1]}/slack/events", SIGNING_SECRET)
    finally:
        server.shutdown()
        server.server_close()


def _form(response: SlackHttpResponse) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(response.json()["body"], keep_blank_values=True).items()}


def test_command_is_signed_and_carries_every_slack_field(signed_client: SignedSlackClient) -> None:
    response = signed_client.command("/ddb-export", "orders", response_url="http://127.0.0.1:1/response/r1")

    assert response.status == 200
    assert response.json()["valid"] is True
    assert response.json()["content_type"] == "application/x-www-form-urlencoded"
    assert response.headers["Content-Type"] == "application/json"
    assert response.elapsed > 0
    fields = _form(response)
    assert set(fields) >= {
        "token",
        "team_id",
        "team_domain",
        "enterprise_id",
        "enterprise_name",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "response_url",
        "trigger_id",
        "api_app_id",
        "is_enterprise_install",
    }
    assert (fields["command"], fields["text"], fields["user_id"], fields["channel_id"]) == (
        "/ddb-export",
        "orders",
        "U0ALICE",
        "C0OPS",
    )
    assert (fields["team_id"], fields["api_app_id"]) == ("T0DEMO", "A0DEMO")


def test_click_is_a_signed_block_actions_payload(signed_client: SignedSlackClient) -> None:
    response = signed_client.click(
        "approve_restore",
        "req-42",
        message_ts="1764300000.000100",
        channel_id="C0OPS",
        user_id="U0BOB",
        response_url="http://127.0.0.1:1/response/r2",
        block_id="approval",
    )

    assert response.json()["valid"] is True
    payload = json.loads(_form(response)["payload"])
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U0BOB"
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1764300000.000100",
        "channel_id": "C0OPS",
        "is_ephemeral": False,
    }
    assert payload["channel"]["id"] == "C0OPS"
    assert payload["message"]["ts"] == "1764300000.000100"
    assert payload["response_url"] == "http://127.0.0.1:1/response/r2"
    (action,) = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "approve_restore",
        "approval",
        "req-42",
        "button",
    )
    assert {"trigger_id", "api_app_id", "team", "state"} <= set(payload)


def test_view_submission_is_a_signed_payload(signed_client: SignedSlackClient) -> None:
    values = {"table": {"table_input": {"type": "plain_text_input", "value": "orders"}}}

    response = signed_client.view_submission("restore_form", values, user_id="U0ALICE", private_metadata="C0OPS")

    assert response.json()["valid"] is True
    payload = json.loads(_form(response)["payload"])
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "restore_form"
    assert payload["view"]["private_metadata"] == "C0OPS"
    assert payload["view"]["state"]["values"] == values


def test_raw_forgeries_are_returned_not_raised(signed_client: SignedSlackClient) -> None:
    body = b"command=%2Fddb-export&text=orders"

    forged = signed_client.raw(body, signature="v0=" + "0" * 64)
    stale = signed_client.raw(body, timestamp=int(time.time()) - 600)
    unsigned = signed_client.raw(body, signature="")
    genuine = signed_client.raw(body)

    assert [forged.status, stale.status, unsigned.status, genuine.status] == [401, 401, 401, 200]
    assert unsigned.json()["has_signature"] is False
    assert genuine.json()["body"] == body.decode()


def test_posted_message_snapshots_do_not_leak_state(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C0OPS", text="t", blocks=[SECTION])
    snapshot: PostedMessage = standin.messages()[0]
    snapshot.blocks.clear()

    assert standin.messages()[0].blocks == [SECTION]


# ---------------------------------------------------------------------------------------------- views


MODAL = {
    "type": "modal",
    "callback_id": "form",
    "title": {"type": "plain_text", "text": "A form"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "target",
            "label": {"type": "plain_text", "text": "Target"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


def test_views_are_held_as_slack_answers_them_and_told_to_the_view_listeners(
    standin: SlackStandIn, client: WebClient
) -> None:
    seen: list[Any] = []
    standin.view_listeners.append(seen.append)

    opened = client.views_open(trigger_id="1.2.abc", view=MODAL)["view"]
    updated = client.views_update(view_id=opened["id"], view={**MODAL, "title": {"type": "plain_text", "text": "B"}})
    home = {"type": "home", "blocks": [SECTION]}
    first = client.views_publish(user_id="U0BOB", view=home)["view"]
    again = client.views_publish(user_id="U0BOB", view=home)["view"]

    assert opened["state"] == {"values": {}} and updated["view"]["id"] == opened["id"]
    assert first["id"] == again["id"], "one Home tab per person, as in Slack"
    assert [(v.method, v.view_id, v.trigger_id, v.user) for v in seen] == [
        ("views.open", opened["id"], "1.2.abc", None),
        ("views.update", opened["id"], None, None),
        ("views.publish", first["id"], None, "U0BOB"),
        ("views.publish", first["id"], None, "U0BOB"),
    ]
    held = {v.view_id: v for v in standin.views()}
    assert held[opened["id"]].view["title"]["text"] == "B" and held[first["id"]].user == "U0BOB"


def test_a_refused_view_reaches_no_listener(standin: SlackStandIn, client: WebClient) -> None:
    seen: list[Any] = []
    standin.view_listeners.append(seen.append)
    too_long = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}

    with pytest.raises(SlackApiError):
        client.views_open(trigger_id="1.2.abc", view=too_long)

    assert seen == [] and standin.views() == []


def test_a_modal_opened_with_a_clicks_trigger_is_known_to_be_for_who_clicked(
    standin: SlackStandIn, client: WebClient
) -> None:
    class OpensTheForm(BaseHTTPRequestHandler):
        """A bot that answers any click by opening a modal with the click's trigger, as the bot's buttons do."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            payload = json.loads(parse_qs(body)["payload"][0])
            client.views_open(trigger_id=payload["trigger_id"], view=MODAL)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), OpensTheForm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        signed = SignedSlackClient(f"http://127.0.0.1:{server.server_address[1]}/slack/events", SIGNING_SECRET)
        for user in ("U0ALICE", "U0BOB"):
            signed.view_click("open", "1", user_id=user, view={"id": "VHOME", "type": "home"}, block_id="b")
    finally:
        server.shutdown()
        server.server_close()

    opened = [view for view in standin.views() if view.method == "views.open"]
    assert [signed.trigger_user(view.trigger_id) for view in opened] == ["U0ALICE", "U0BOB"]
    assert signed.trigger_user("1.2.not-sent-by-this-client") is None
