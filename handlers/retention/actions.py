"""Approve and Reject on a deletion request: acknowledged at once; a refused click gets its reason as an ephemeral
reply and leaves the message alone (the decision itself edits it through the notifier)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.errors import BotError
from bot.retention.deletions import DeletionDecision, Deletions
from handlers.kit import emoji
from handlers.kit.blocks import Message, code, error_lines, message, section, unexpected_error
from handlers.kit.slack_port import respond_with
from handlers.retention.deletion_blocks import APPROVE_ACTION, REJECT_ACTION

logger = logging.getLogger(__name__)


def register(app: App, deletions: Deletions) -> None:
    """Wire the deletion buttons."""

    @app.action(APPROVE_ACTION)
    def approve_deletion(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        _decide(body, respond, deletions.approve)

    @app.action(REJECT_ACTION)
    def reject_deletion(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        _decide(body, respond, deletions.reject)


def _decide(body: dict[str, Any], respond: Respond, decide: Callable[[str, str], DeletionDecision]) -> None:
    value = str(body["actions"][0].get("value") or "")
    who = str((body.get("user") or {}).get("id") or "")
    try:
        decision = decide(value, who)
        reply = _said(f"{emoji.OK} Deletion request {code(decision.request.id, 20)}: {decision.outcome}.")
    except BotError as error:
        reply = _said(f"{emoji.REFUSED} " + " ".join(error_lines(error)))
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("retention.decision_failed", extra={"reference": reference})
        reply = unexpected_error(reference)
    respond_with(respond, reply, "deletion click", response_type="ephemeral", replace_original=False)


def _said(text: str) -> Message:
    return message(text, section(text))
