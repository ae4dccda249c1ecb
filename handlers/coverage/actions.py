"""The Enable PITR button of a coverage row: operators only, through the same audited path as `/ddb-pitr … enable`."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.coverage.survey import CoverageSurvey
from bot.errors import BotError, NotAllowed, UsageError
from bot.models import Requester
from bot.pitr import enable_pitr
from bot.schedules.models import ScheduleType, schedule_type
from bot.schedules.service import NewSchedule, ScheduleCore, add_schedule
from handlers.coverage.blocks import ENABLE_PITR_ACTION
from handlers.coverage.schedule_form import (
    FORM_BUCKET,
    FORM_CRON,
    FORM_FIELD,
    FORM_TYPE,
    SCHEDULE_ACTION,
    SCHEDULE_CALLBACK,
    schedule_form,
)
from handlers.kit.blocks import error_message, row_actions, unexpected_error
from handlers.kit.commands import Surface
from handlers.kit.modals import field_value, tell_submitter, view_metadata
from handlers.kit.slack_port import respond_with
from handlers.pitr.blocks import pitr_message
from handlers.schedules.confirm import added_reply

logger = logging.getLogger(__name__)


def register(app: App, surface: Surface, survey: CoverageSurvey, sc: ScheduleCore) -> None:
    """Wire the coverage buttons and the schedule form."""

    @app.action(row_actions(SCHEDULE_ACTION))
    def open_schedule_form(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        user = str((body.get("user") or {}).get("id") or "")
        table = str(body["actions"][0].get("value") or "")
        if not surface.authorizer.is_operator(user):
            refusal = NotAllowed("Only operators may add schedules.")
            respond_with(
                respond, error_message(refusal), "coverage click", response_type="ephemeral", replace_original=False
            )
            return
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        view = schedule_form(table, channel, surface.core.defaults.bucket)
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except Exception:
            logger.exception("coverage.schedule_form_not_opened", extra={"table": table})

    @app.view(SCHEDULE_CALLBACK)
    def submit_schedule_form(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        view = body.get("view") or {}
        metadata = view_metadata(view.get("private_metadata"))
        values = (view.get("state") or {}).get("values") or {}
        try:
            surface.authorizer.require_operator(user, "add schedules")
            request = _request(values, str(metadata.get("table") or ""), sc)
        except BotError as error:
            ack(response_action="errors", errors={FORM_CRON: error.message[:150]})
            return
        ack()
        try:
            reply = added_reply(
                sc, add_schedule(sc, request, Requester(user, metadata.get("channel"))), request
            ).message
        except BotError as error:
            reply = error_message(error)
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("coverage.schedule_add_failed", extra={"reference": reference})
            reply = unexpected_error(reference)
        tell_submitter(client, user, metadata.get("channel"), reply, "schedule form")

    @app.action(row_actions(ENABLE_PITR_ACTION))
    def enable_pitr_from_coverage(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user = str((body.get("user") or {}).get("id") or "")
        table = str(body["actions"][0].get("value") or "")
        respond_with(
            respond,
            _enable(surface, survey, user, table),
            "coverage click",
            response_type="ephemeral",
            replace_original=False,
        )


def _request(values: dict[str, Any], table: str, sc: ScheduleCore) -> NewSchedule:
    """The form's fields as the request `/ddb-schedule add` would make; UsageError when one is wrong."""
    cron = " ".join(str(field_value(values, FORM_CRON, FORM_FIELD) or "").split())
    export_type = schedule_type(str(field_value(values, FORM_TYPE, FORM_FIELD) or ScheduleType.FULL))
    bucket = field_value(values, FORM_BUCKET, FORM_FIELD)
    if not table:
        raise UsageError("The form lost its table; close it and click the button again.")
    sc.calendar.check(cron, "UTC")
    return NewSchedule(table, cron, "UTC", export_type, {"bucket": str(bucket)} if bucket else {})


def _enable(surface: Surface, survey: CoverageSurvey, user: str, table: str) -> dict[str, Any]:
    try:
        surface.authorizer.require_operator(user, "turn on PITR")
        report = enable_pitr(surface.core, table, None, user)
    except BotError as error:
        surface.core.store.audit(user, "pitr.enable", table, {"from": "coverage"}, f"refused: {error}")
        return dict(error_message(error))
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("coverage.pitr_enable_failed", extra={"table": table, "reference": reference})
        return dict(unexpected_error(reference))
    survey.forget()
    return dict(pitr_message(report))
