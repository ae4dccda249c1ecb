"""The question before a costly schedule is added, and its Confirm button: the button carries the request itself,
and a click adds it through the same validation and audited path as `/ddb-schedule add … confirm=true`."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.errors import BotError, UsageError
from bot.models import Requester
from bot.schedules.costly import CostlySchedule
from bot.schedules.models import schedule_type
from bot.schedules.service import AddedSchedule, NewSchedule, ScheduleCore, add_schedule
from handlers.kit.blocks import BUTTON_VALUE, error_message, unexpected_error
from handlers.kit.commands import Reply, Surface
from handlers.kit.slack_port import respond_with
from handlers.schedules import blocks as schedule_blocks
from handlers.schedules.blocks import CONFIRM_ACTION

logger = logging.getLogger(__name__)
FIELDS = ("table", "cron", "timezone", "export_type", "options", "channel")


def confirm_value(request: NewSchedule) -> str | None:
    """The request as the Confirm button's value; None when it does not fit a button (`confirm=true` still can)."""
    value = json.dumps(
        {
            "table": request.table,
            "cron": request.cron,
            "timezone": request.timezone,
            "export_type": str(request.export_type),
            "options": request.options,
            "channel": request.channel,
        },
        separators=(",", ":"),
    )
    return value if len(value) <= BUTTON_VALUE else None


def confirmed_request(value: str) -> NewSchedule:
    """The request a Confirm button carries (add_schedule validates every field again)."""
    try:
        data = json.loads(value)
        if not isinstance(data, dict) or set(data) != set(FIELDS):
            raise ValueError(value[:40])
        options = {str(k): str(v) for k, v in dict(data["options"]).items()}
        channel = str(data["channel"]) if data["channel"] else None
        return NewSchedule(
            str(data["table"]),
            str(data["cron"]),
            str(data["timezone"]),
            schedule_type(str(data["export_type"])),
            options,
            channel,
        )
    except (ValueError, TypeError, AttributeError):
        raise UsageError("This button no longer carries a schedule; run `/ddb-schedule add` again.") from None


def added_reply(sc: ScheduleCore, outcome: AddedSchedule | CostlySchedule, request: NewSchedule) -> Reply:
    """The schedule added (to the channel), or the question before a costly one (to the person alone, with a
    Confirm button carrying the request)."""
    if isinstance(outcome, CostlySchedule):
        return Reply(schedule_blocks.schedule_confirm(outcome, confirm_value(request)))
    return Reply(schedule_blocks.schedule_added(outcome, sc.core.notify_channel), in_channel=True)


def register(app: App, surface: Surface, sc: ScheduleCore) -> None:
    """Wire the Confirm button of the question."""

    @app.action(CONFIRM_ACTION)
    def confirm_schedule(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user = str((body.get("user") or {}).get("id") or "")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        value = str(body["actions"][0].get("value") or "")
        reply = _confirmed(surface, sc, user, channel, value)
        respond_with(
            respond,
            reply.message,
            "schedule confirm",
            response_type="in_channel" if reply.in_channel else "ephemeral",
            replace_original=not reply.in_channel,
        )


def _confirmed(surface: Surface, sc: ScheduleCore, user: str, channel: str | None, value: str) -> Reply:
    try:
        surface.authorizer.require_operator(user, "add schedules")
        outcome = add_schedule(sc, confirmed_request(value), Requester(user, channel), confirmed=True)
        return added_reply(sc, outcome, confirmed_request(value))
    except BotError as error:
        return Reply(error_message(error))
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("schedules.confirm_failed", extra={"reference": reference})
        return Reply(unexpected_error(reference))
