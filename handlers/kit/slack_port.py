"""Slack's Web API behind the ports every surface shares: answering through response_url, checking Slack's answer
(a refused call is a failure, never "ok"), and user-group lookups (messages owed to people are delivered by
handlers.kit.delivery)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from handlers.kit import blocks

logger = logging.getLogger(__name__)


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


class SlackGroups:
    """GroupDirectory backed by usergroups.users.list (scope usergroups:read)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def members(self, group_id: str) -> set[str]:
        """The members of a user group."""
        return set(self._client.usergroups_users_list(usergroup=group_id).get("users") or [])
