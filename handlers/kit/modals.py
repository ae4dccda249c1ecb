"""What every modal of the bot needs: its private metadata read back, a field's value, and the answer to the
person who submitted it (ephemeral where they opened it, else a DM). Shared by the Restore… and Schedule forms."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk import WebClient

from handlers.kit.blocks import Message

logger = logging.getLogger(__name__)


def view_metadata(text: Any) -> dict[str, Any]:
    """A view's private_metadata as the JSON object it was written as; {} when it is anything else."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def field_value(values: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """A submitted input's text or selected option, stripped; None when it is empty."""
    element = (values.get(block_id) or {}).get(action_id) or {}
    selected = element.get("selected_option")
    value = selected.get("value") if isinstance(selected, dict) else element.get("value")
    return str(value).strip() if value else None


def tell_submitter(client: WebClient, user: str, channel: str | None, reply: Message, form: str) -> None:
    """Answer who submitted `form`: ephemerally in its channel, or by DM; a failure is logged, not raised."""
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=reply["text"], blocks=reply["blocks"])
        else:
            client.chat_postMessage(channel=user, text=reply["text"], blocks=reply["blocks"])
    except Exception:
        logger.exception("form.answer_failed", extra={"form": form, "user": user})
