"""Slack's Web API behind the ports every surface shares: answering through response_url and posting a message,
each checking Slack's answer (a refused call is a failure, never "ok"), and user-group lookups."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.kit import blocks

logger = logging.getLogger(__name__)
# Retrying these cannot help: the message is dropped with a log line instead of being retried forever.
PERMANENT_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "restricted_action",
    "msg_too_long",
    "invalid_blocks",
}
# Slack refused what the message holds, not where it goes: the same text without blocks still reaches people.
CONTENT_ERRORS = {"invalid_blocks", "msg_too_long"}


def respond_with(respond: Respond, message: blocks.Message, purpose: str, **fields: Any) -> str | None:
    """Answer through response_url; None when Slack took it. When Slack refuses it (or cannot be reached) the
    refusal is logged with a reference, the person is told in plain text (which Slack takes where it refused the
    blocks), and the failure is returned, naming the reference, for the caller's audit entry."""
    problem = _respond(respond, message, fields)
    if problem is None:
        return None
    reference = uuid.uuid4().hex[:8]
    logger.error("slack.answer_refused", extra={"purpose": purpose, "reference": reference, "slack_error": problem})
    notice = blocks.answer_refused(reference)
    told = _respond(respond, notice, {"response_type": "ephemeral", "replace_original": fields.get("replace_original")})
    if told is not None:
        logger.error("slack.notice_refused", extra={"reference": reference, "slack_error": told})
    return f"answer refused by Slack ({problem}); reference {reference}"


def _respond(respond: Respond, message: blocks.Message, fields: dict[str, Any]) -> str | None:
    """Slack's refusal of one response_url post (its error code, or the HTTP status), None when it took it."""
    try:
        response = respond(**message, **fields)
    except Exception as exc:  # retries exhausted, the connection refused: the answer did not arrive either way
        logger.warning("slack.response_url_unreachable", exc_info=True)
        return type(exc).__name__
    status, body = int(response.status_code), str(response.body or "")
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) and parsed.get("ok") is False else None
    if status == 200 and error is None:
        return None
    return str(error or body.strip()[:64] or f"HTTP {status}")


def post_message(
    client: WebClient, channel: str, message: blocks.Message, purpose: str, fallback: Callable[[], bool] | None = None
) -> bool:
    """chat.postMessage (429s are retried by the client). True when posted, or when Slack refused it for a reason
    retrying cannot fix (logged with a reference; a refused content is posted again as plain text, else `fallback`
    is tried); False when a later retry may succeed."""
    try:
        client.chat_postMessage(channel=channel, text=message["text"], blocks=message["blocks"])
        return True
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        if error not in PERMANENT_ERRORS:
            logger.warning("slack.post_failed", extra={"purpose": purpose, "channel": channel, "slack_error": error})
            return False
        if error in CONTENT_ERRORS:
            _post_plain(client, channel, message, purpose, exc)
        elif fallback is None or not fallback():
            logger.error("slack.post_refused", extra={"purpose": purpose, "channel": channel, "slack_error": error})
        return True
    except Exception:
        logger.exception("slack.post_unreachable", extra={"purpose": purpose, "channel": channel})
        return False


def _post_plain(client: WebClient, channel: str, message: blocks.Message, purpose: str, exc: SlackApiError) -> None:
    """Slack refused the blocks (the builders should make that impossible): say which limit, with a reference, and
    post the message's text alone so that people still read what happened."""
    reference = uuid.uuid4().hex[:8]
    details = "; ".join(str(e) for e in exc.response.get("errors") or [])
    logger.error(
        "slack.message_refused",
        extra={"purpose": purpose, "channel": channel, "reference": reference, "slack_error": details or str(exc)},
    )
    plain = blocks.plain_fallback(message, reference)
    try:
        client.chat_postMessage(channel=channel, text=plain["text"])
    except Exception:
        logger.exception("slack.plain_fallback_failed", extra={"reference": reference})


class SlackGroups:
    """GroupDirectory backed by usergroups.users.list (scope usergroups:read)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def members(self, group_id: str) -> set[str]:
        """The members of a user group."""
        return set(self._client.usergroups_users_list(usergroup=group_id).get("users") or [])
