"""Bodies Bolt cannot read, sent to the running bot's /slack/events: signed ones get 400 saying what is wrong,
unsigned ones 401 as before (and a body Slack's verifier cannot read as UTF-8 is unsigned), and none gets a 500.
A slash command that mentions "payload" is answered."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.demo.slack_standin import SlackStandIn
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import OPS, SIGNING_SECRET
from tests.support.slack_requests import SignedSlackClient, SlackHttpResponse


def payload(value: Any) -> bytes:
    return urlencode({"payload": value if isinstance(value, str) else json.dumps(value)}).encode()


MALFORMED = [
    ("not JSON", b"payload=%7Bnot-json", "`payload` is not JSON"),
    ("JSON, not an object", payload([1, 2]), "`payload` is JSON but not an object"),
    ("a JSON string", payload('"block_actions"'), "`payload` is JSON but not an object"),
    ("null", payload("null"), "`payload` is JSON but not an object"),
    ("no type", payload({"user": {"id": "U0ALICE"}}), "`payload` has no `type`"),
    ("a number for type", payload({"type": 5}), "`payload` has no `type`"),
    ("actions not a list", payload({"type": "block_actions", "actions": "x"}), "needs a list of actions"),
    ("action without id", payload({"type": "block_actions", "actions": [5]}), "each with an `action_id`"),
    ("view without type", payload({"type": "view_submission", "view": {"callback_id": "x"}}), "a `view` with"),
    ("user a list", payload({"type": "block_actions", "actions": [], "user": [1]}), "`user` that is neither"),
    ("form without payload", b"foo=bar&team_id=T0DEMO", "neither `payload` (an interaction) nor `command`"),
    ("broken URL encoding", b"payload=%E0%A4%A", "broken URL encoding"),
    ("percent-encoded non-UTF-8", b"payload=%FF%FE", "broken URL encoding"),
    ("JSON body not JSON", b"{nope", "the JSON body is not JSON"),
    ("not form fields", b"[1]", "the form body is not `name=value` pairs"),
    ("empty body", b"", "the body is empty"),
]


def signature(body: bytes, timestamp: int) -> str:
    """Slack's v0 signature over the raw bytes (the client's helper cannot sign bytes that are not UTF-8)."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


def send_signed(client: SignedSlackClient, body: bytes) -> SlackHttpResponse:
    now = int(time.time())
    return client.raw(body, timestamp=now, signature=signature(body, now))


@pytest.mark.parametrize(("body", "reason"), [(b, r) for _, b, r in MALFORMED], ids=[n for n, _, _ in MALFORMED])
def test_a_signed_malformed_body_gets_400_saying_why_and_an_unsigned_one_401(
    signed: SignedSlackClient, body: bytes, reason: str
) -> None:
    answer = send_signed(signed, body)
    assert (answer.status, reason in answer.body) == (400, True), answer.body

    assert signed.raw(body, signature="").status == 401
    assert signed.raw(body, signature="v0=" + "0" * 64).status == 401
    stale = int(time.time()) - 6 * 60
    assert signed.raw(body, timestamp=stale, signature=signature(body, stale)).status == 401


def test_a_body_that_is_not_utf8_gets_401_signed_or_not(signed: SignedSlackClient) -> None:
    """Slack sends only UTF-8, and its verifier (slack_sdk's SignatureVerifier) reads the body as UTF-8: such a
    body cannot be checked, so it is refused as unsigned, before anything reads it."""
    body = b"payload=\xff\xfe"
    assert send_signed(signed, body).status == 401
    assert signed.raw(body, signature="").status == 401


def test_a_slash_command_that_mentions_payload_is_answered(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    response = signed.command("/ddb-pitr", "payloads", response_url=slack.response_url(OPS))
    assert response.status == 200, response.body
    answer = slack.wait_for(lambda m: m.channel == OPS and "payloads" in m.text + json.dumps(m.blocks))
    assert "No table `payloads` in us-east-1." in answer.text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = st.sampled_from(
    [
        "type",
        "actions",
        "user",
        "team",
        "channel",
        "view",
        "event",
        "container",
        "callback_id",
        "authorizations",
        "message",
        "enterprise",
        "is_ext_shared_channel",
        "trigger_id",
        "response_url",
        "api_app_id",
    ]
)
TYPES = st.sampled_from(
    [
        "block_actions",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "event_callback",
        "interactive_message",
        "url_verification",
        "other",
    ]
)
PAYLOADS = st.dictionaries(FIELDS, JSON, max_size=6).flatmap(
    lambda body: st.one_of(st.just(body), TYPES.map(lambda kind: {**body, "type": kind}))
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=PAYLOADS, as_form=st.booleans())
def test_no_signed_body_gets_a_500(signed: SignedSlackClient, body: dict[str, Any], as_form: bool) -> None:
    raw = payload(body) if as_form else json.dumps(body).encode()
    answer = send_signed(signed, raw)
    assert answer.status != 500, (raw, answer.body)
    assert answer.status in {200, 400, 404}, (raw, answer.status, answer.body)
