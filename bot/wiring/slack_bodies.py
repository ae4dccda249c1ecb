"""What the HTTP endpoint checks about a request body before Bolt reads it, and how Bolt is made to read a slash
command that mentions "payload".

Bolt parses a body before it checks the signature, and a body it cannot parse (not JSON, JSON that is not an
object, broken URL encoding, an action without `action_id`) raised inside Bolt and came back as HTTP 500. The
endpoint now checks the signature first, on a body no larger than Slack sends (bot/limits.py), and answers 400 for
those, naming what is wrong, only once the signature checks out: an unsigned request gets 401 whatever its body,
and its body is never decoded or parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier

from bot.bounded import size_text

BROKEN_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
FORM_ONLY = ("command", "ssl_check")  # a slash command, or Slack's SSL check
# What Bolt's listener matchers index without checking, by interaction type: (field, what it must hold).
Shape = Callable[[Any], bool]


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _object_with(*keys: str) -> Shape:
    return lambda value: isinstance(value, dict) and all(isinstance(value.get(key), str) for key in keys)


def _actions(value: Any) -> bool:
    return isinstance(value, list) and all(_object_with("action_id")(action) for action in value)


def _list_of_objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(entry, dict) for entry in value)


CALLBACK_TYPES = (
    "shortcut",
    "message_action",
    "interactive_message",
    "dialog_submission",
    "dialog_cancellation",
    "workflow_step_edit",
)
NEEDED: Mapping[str, Sequence[tuple[str, Shape, str]]] = {
    "block_actions": (("actions", _actions, "a list of actions, each with an `action_id`"),),
    "view_submission": (("view", _object_with("type", "callback_id"), "a `view` with `type` and `callback_id`"),),
    "view_closed": (("view", _object_with("type", "callback_id"), "a `view` with `type` and `callback_id`"),),
    "event_callback": (("event", _object_with("type"), "an `event` with a `type`"),),
    **dict.fromkeys(CALLBACK_TYPES, (("callback_id", _text, "a `callback_id`"),)),
}
# Fields Bolt reads as objects (or a list of them) for every request, whatever its type.
OBJECTS_WHEN_PRESENT = ("user", "team", "channel", "enterprise", "container", "view", "event", "message")


def malformed(body: bytes, content_type: str) -> str | None:
    """What is wrong with a body Bolt could not read, in a phrase (None: Bolt can read it)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    if not text:
        return "the body is empty"
    if content_type == "application/json" or text.startswith("{"):
        return _payload_problem(text, "the JSON body")
    if BROKEN_PERCENT.search(text):
        return "the form body has broken URL encoding (a % not followed by two hex digits)"
    try:
        fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict"))
    except UnicodeDecodeError:
        return "the form body has broken URL encoding (it decodes to something that is not UTF-8)"
    except ValueError:
        return "the form body is not `name=value` pairs"
    if "payload" in fields:
        return _payload_problem(fields["payload"], "`payload`")
    if not any(name in fields for name in FORM_ONLY):
        return "the form body has neither `payload` (an interaction) nor `command` (a slash command)"
    return None


def _payload_problem(text: str, what: str) -> str | None:
    try:
        payload = json.loads(text)
    except ValueError:
        return f"{what} is not JSON"
    if not isinstance(payload, dict):
        return f"{what} is JSON but not an object"
    kind = payload.get("type")
    if not isinstance(kind, str) or not kind:
        return f"{what} has no `type`"
    for name in OBJECTS_WHEN_PRESENT:
        if name in payload and not isinstance(payload[name], dict | str | None):
            return f"{what} has a `{name}` that is neither an object nor text"
    if "authorizations" in payload and not _list_of_objects(payload["authorizations"]):
        return f"{what} has `authorizations` that are not a list of objects"
    for field, shape, described in NEEDED.get(kind, ()):
        if not shape(payload.get(field)):
            return f"a `{kind}` {what} needs {described}"
    return None


def signed(verifier: SignatureVerifier | None, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 signature over the raw body, at most five minutes old, checked by slack_sdk's SignatureVerifier.

    False for what it cannot check, never an exception: no signing secret, a timestamp that is not a number, a
    signature that is not ASCII, a body that is not UTF-8 (Slack sends only UTF-8: such a body is not Slack's)."""
    if verifier is None:
        return False
    try:
        return verifier.is_valid(body, timestamp, signature)
    except (ValueError, TypeError):  # int(timestamp), body.decode("utf-8") and hmac.compare_digest on non-ASCII
        return False


def too_large(limit: int) -> str:
    """Why a body over `limit` is refused unread, in a phrase."""
    return f"the body is larger than {size_text(limit)}, more than any request Slack sends"


class FormRequest(BoltRequest):
    """A request whose form fields Bolt reads as written.

    Bolt takes any form body containing the text "payload" for an interaction and, finding no `payload` field,
    reads it as empty: `/ddb-restore s3://b/payloads/…` went unanswered (404). Such a body is read here as the
    slash command it is; every other body is read by Bolt as before.
    """

    def __init__(self, *, body: str, query: Any, headers: Any) -> None:
        super().__init__(body=body, query=query, headers=headers)
        if not self.body and "payload" in body and not body.startswith("{"):
            fields = dict(parse_qsl(body, keep_blank_values=True))
            if "payload" not in fields:
                self.body = fields
                self.context = build_context(BoltContext({}), fields)
