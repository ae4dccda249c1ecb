"""The recovery buttons: Restore this version (operators; prepares a /ddb-recover request from a lookup's answer)
and Show the items (the requester and approvers; the values, ephemerally). Every click is acknowledged at once;
a refusal is an ephemeral reply saying why."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.errors import BotError
from bot.models import Requester
from handlers.kit.blocks import Message, unexpected_error
from handlers.recovery import blocks as rb
from handlers.recovery.commands import RecoverySurface
from handlers.restores.blocks import click_refused

logger = logging.getLogger(__name__)


def register(app: App, recovery_surface: RecoverySurface) -> None:
    """Wire both buttons."""
    recoveries = recovery_surface.recoveries

    @app.action(rb.RESTORE_VERSION_ACTION)
    def restore_this_version(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user, channel = _clicker(body)
        _answer(
            respond, lambda value: rb.started_reply(recoveries.restore_version(value, Requester(user, channel))), body
        )

    @app.action(rb.SHOW_ITEMS_ACTION)
    def show_items(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user, _ = _clicker(body)
        _answer(
            respond, lambda value: rb.items_message(recoveries.private_view(value, user), offer_restore=False), body
        )


def _clicker(body: dict[str, Any]) -> tuple[str, str | None]:
    user = str((body.get("user") or {}).get("id") or "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return user, channel


def _answer(respond: Respond, work: Callable[[str], Message], body: dict[str, Any]) -> None:
    value = str(body["actions"][0].get("value") or "")
    try:
        reply = work(value)
    except BotError as error:
        reply = click_refused(error)
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("recovery.click_failed", extra={"reference": reference})
        reply = unexpected_error(reference)
    respond(**reply, response_type="ephemeral", replace_original=False)
