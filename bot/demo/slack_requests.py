"""Signed requests to the bot's HTTP endpoint, shaped as Slack sends them, for the demo console and the tests.

Slack signs every command and click; sending them this way exercises the bot's real verification and routing.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
REQUEST_TIMEOUT_SECONDS = 10.0
REMEMBERED_TRIGGERS = 200
_UNUSED_VERIFICATION_TOKEN = "deprecated-verification-token"  # noqa: S105 - Slack still sends the field
_trigger_sequence = itertools.count(1)


@dataclass
class SlackHttpResponse:
    """What the bot answered; 4xx/5xx included, since tests assert on rejections too."""

    status: int
    body: str
    headers: dict[str, str]
    elapsed: float

    def json(self) -> Any:
        """The body decoded as JSON (raises ValueError when it is not JSON)."""
        return json.loads(self.body)


class SignedSlackClient:
    """Sends slash commands, button clicks and modal submissions to `events_url`, signed like Slack does."""

    def __init__(
        self, events_url: str, signing_secret: str, *, team_id: str = "T0DEMO", api_app_id: str = "A0DEMO"
    ) -> None:
        self.events_url = events_url
        self.team_id = team_id
        self.api_app_id = api_app_id
        self._verifier = SignatureVerifier(signing_secret)
        self._triggers: OrderedDict[str, str] = OrderedDict()  # trigger_id → the user whose request carried it
        # No proxies: the bot under test is local, and an inherited HTTP(S)_PROXY must not intercept it.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def command(
        self,
        command: str,
        text: str,
        *,
        user_id: str = "U0ALICE",
        user_name: str = "alice",
        channel_id: str = "C0OPS",
        channel_name: str = "ops",
        response_url: str,
    ) -> SlackHttpResponse:
        """POST a slash command with every form field Slack sends."""
        fields = {
            "token": _UNUSED_VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": "demo",
            "enterprise_id": "",
            "enterprise_name": "",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": self._trigger_for(user_id),
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
        }
        return self.raw(urlencode(fields).encode("utf-8"))

    def click(
        self,
        action_id: str,
        value: str,
        *,
        message_ts: str,
        channel_id: str,
        user_id: str,
        response_url: str,
        block_id: str = "b",
        message: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
        user_name: str | None = None,
        channel_name: str = "ops",
        is_ephemeral: bool = False,
    ) -> SlackHttpResponse:
        """POST a `block_actions` payload for a button click on the message at `message_ts`."""
        name = user_name or user_id.lower()
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user_id, "username": name, "name": name, "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": _UNUSED_VERIFICATION_TOKEN,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": is_ephemeral,
            },
            "trigger_id": self._trigger_for(user_id),
            "team": {"id": self.team_id, "domain": "demo"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": channel_name},
            "message": message
            if message is not None
            else {"type": "message", "ts": message_ts, "text": "", "blocks": []},
            "state": state if state is not None else {"values": {}},
            "response_url": response_url,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": {"type": "plain_text", "text": value, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self._send_payload(payload)

    def view_submission(
        self,
        callback_id: str,
        values: dict[str, Any],
        *,
        user_id: str,
        private_metadata: str = "",
        view_id: str = "V1",
        user_name: str | None = None,
        view: dict[str, Any] | None = None,
    ) -> SlackHttpResponse:
        """POST a `view_submission`; `values` is `{block_id: {action_id: {"type": ..., "value": ...}}}`; `view` is
        the modal as it was opened (its blocks, title, buttons), when the sender has it."""
        name = user_name or user_id.lower()
        shown = view or {"type": "modal", "blocks": [], "title": {"type": "plain_text", "text": "ddb-backup-bot"}}
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "demo"},
            "user": {"id": user_id, "username": name, "name": name, "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": _UNUSED_VERIFICATION_TOKEN,
            "trigger_id": self._trigger_for(user_id),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": {
                **shown,
                "id": view_id,
                "team_id": self.team_id,
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
                "root_view_id": view_id,
                "previous_view_id": None,
                "external_id": "",
                "app_id": self.api_app_id,
                "bot_id": "B0DEMO",
            },
            "response_urls": [],
        }
        return self._send_payload(payload)

    def event(self, event: dict[str, Any]) -> SlackHttpResponse:
        """POST an Events API `event_callback` (JSON, signed), e.g. `{"type": "app_home_opened", ...}`."""
        payload = {
            "type": "event_callback",
            "token": _UNUSED_VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "event_id": f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "user_id": "U0BOT", "is_bot": True}],
        }
        return self.raw(json.dumps(payload).encode("utf-8"), content_type="application/json")

    def home_click(self, action_id: str, value: str, *, user_id: str, view_id: str = "VHOME") -> SlackHttpResponse:
        """POST a `block_actions` payload for a button in the App Home tab (a view: no channel, no response_url)."""
        view = {"id": view_id, "type": "home", "blocks": [], "team_id": self.team_id}
        return self.view_click(action_id, value, user_id=user_id, view=view, block_id="home")

    def view_click(
        self,
        action_id: str,
        value: str,
        *,
        user_id: str,
        view: dict[str, Any],
        block_id: str,
        user_name: str | None = None,
    ) -> SlackHttpResponse:
        """POST a `block_actions` payload for a button in a view (the Home tab or a modal), `view` as shown."""
        name = user_name or user_id.lower()
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user_id, "username": name, "name": name, "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": _UNUSED_VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": self._trigger_for(user_id),
            "team": {"id": self.team_id, "domain": "demo"},
            "view": view,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": {"type": "plain_text", "text": value, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self._send_payload(payload)

    def trigger_user(self, trigger_id: str | None) -> str | None:
        """Whose request carried `trigger_id` (so a modal opened with it is shown to that person)."""
        return self._triggers.get(trigger_id or "")

    def raw(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        content_type: str = FORM_CONTENT_TYPE,
    ) -> SlackHttpResponse:
        """POST `body` as is; `signature=None` signs it correctly, `""` omits the header (forgery tests)."""
        request_timestamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": request_timestamp}
        if signature is None:
            signature = self._verifier.generate_signature(timestamp=request_timestamp, body=body)
        if signature:
            headers["X-Slack-Signature"] = signature
        request = urllib.request.Request(self.events_url, data=body, headers=headers, method="POST")  # noqa: S310
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                status, response_body, response_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, response_body, response_headers = error.code, error.read(), error.headers
        return SlackHttpResponse(
            status=status,
            body=response_body.decode("utf-8", errors="replace"),
            headers=dict(response_headers.items()),
            elapsed=time.monotonic() - started,
        )

    def _send_payload(self, payload: dict[str, Any]) -> SlackHttpResponse:
        """Interactive requests carry their JSON in the `payload` form field."""
        return self.raw(urlencode({"payload": json.dumps(payload)}).encode("utf-8"))

    def _trigger_for(self, user_id: str) -> str:
        """A new trigger id, remembered with its user (the most recent ones only)."""
        trigger = _new_trigger_id()
        self._triggers[trigger] = user_id
        while len(self._triggers) > REMEMBERED_TRIGGERS:
            self._triggers.popitem(last=False)
        return trigger


def _new_trigger_id() -> str:
    """Unique per request, like Slack's, so a handler that opens a modal gets a distinct trigger."""
    return f"{next(_trigger_sequence)}.{int(time.time())}.{secrets.token_hex(8)}"
