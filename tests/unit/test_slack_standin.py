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
    return WebClient(token="xoxb-test", base_url=standin.api_url)


def post_json(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
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
    view = client.views_open(trigger_id="1.2.3", view={"type": "modal", "callback_id": "restore", "blocks": []})
    user = client.users_info(user="U0ALICE")

    assert standin.messages() == []
    assert view["view"]["id"].startswith("V")
    assert view["view"]["callback_id"] == "restore"
    assert user["user"]["tz"] == "UTC"
    assert client.conversations_info(channel="C0OPS")["channel"]["id"] == "C0OPS"
    assert client.api_call("reactions.add", params={"name": "x"})["ok"] is True


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
        token="xoxb-test",
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

    found = standin.wait_for(lambda message: "done" in message.text, timeout=2)

    assert found.channel == "C0OPS"


def test_wait_for_times_out_listing_what_it_saw(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C0OPS", text="export started")
    started = time.monotonic()

    with pytest.raises(AssertionError) as raised:
        standin.wait_for(lambda message: message.text == "export done", timeout=0.2)

    assert time.monotonic() - started < 1
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
