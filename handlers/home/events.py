"""The App Home tab: published when a person opens it and again after their Approve or Reject click there, which
goes through the same plan-bound workflow as the buttons of the approval message."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.coverage.survey import CoverageSurvey
from bot.errors import BotError
from bot.home.dashboard import build_dashboard
from bot.restores.workflow import Decision, Restores
from bot.schedules.service import ScheduleCore
from handlers.blocks import escape
from handlers.commands import Surface
from handlers.home.blocks import HOME_APPROVE_ACTION, HOME_REJECT_ACTION, home_view

logger = logging.getLogger(__name__)


def register(app: App, surface: Surface, sc: ScheduleCore, restores: Restores, survey: CoverageSurvey) -> None:
    """Wire app_home_opened and the Home tab's buttons."""

    def publish(client: WebClient, user: str, notice: str | None = None) -> None:
        dashboard = build_dashboard(sc, restores.store, survey, approver=surface.authorizer.is_approver(user))
        try:
            client.views_publish(user_id=user, view=home_view(dashboard, notice))
        except Exception:
            logger.exception("home: views.publish failed user=%s", user)

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            publish(client, str(event["user"]))

    def decide(body: dict[str, Any], client: WebClient, verb: Callable[[str, str], Decision]) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        value = str(body["actions"][0].get("value") or "")
        publish(client, user, _notice(lambda: verb(value, user)))

    @app.action(HOME_APPROVE_ACTION)
    def home_approve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        decide(body, client, restores.approve)

    @app.action(HOME_REJECT_ACTION)
    def home_reject(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        decide(body, client, restores.reject)


def _notice(decide: Callable[[], Decision]) -> str:
    """What the click did, shown at the top of the refreshed tab."""
    try:
        decision = decide()
    except BotError as error:
        return f":no_entry_sign: {escape(error.message, 1000)}"
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("home: restore decision failed reference=%s", reference)
        return f":warning: Something went wrong on my side (reference {reference}); nothing was decided."
    request_id = escape(decision.request.id, 100)
    if decision.outcome == "recorded":
        return f":ballot_box_with_check: Your approval of `{request_id}` is recorded; {decision.remaining} more needed."
    if decision.outcome == "approved":
        return f":white_check_mark: You approved `{request_id}`; the restore is starting."
    return f":no_entry: You rejected `{request_id}`; nothing will be restored."
