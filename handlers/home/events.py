"""The App Home tab: published when a person opens it and again after their Approve or Reject click there, which
goes through the same plan-bound workflow as the buttons of the approval message."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.authz import Authorizer
from bot.controls.models import ControlsReport
from bot.coverage.models import CoverageReport
from bot.coverage.survey import CoverageSurvey
from bot.errors import BotError
from bot.home.dashboard import Dashboard, build_dashboard
from bot.restores.workflow import Decision, Restores
from bot.schedules.service import ScheduleCore
from handlers.home.blocks import HOME_APPROVE_ACTION, HOME_REJECT_ACTION
from handlers.home.publisher import HomePublisher
from handlers.kit import emoji
from handlers.kit.blocks import error_lines
from handlers.restores.blocks import decision_text

logger = logging.getLogger(__name__)


def home_publisher(
    client: WebClient,
    authorizer: Authorizer,
    sc: ScheduleCore,
    restores: Restores,
    survey: CoverageSurvey,
    warnings: Callable[[], tuple[str, ...]] = tuple,
    controls_of: Callable[[CoverageReport], ControlsReport] | None = None,
) -> HomePublisher:
    """The publisher of everyone's Home tab, reading each person's dashboard; `warnings` (settings to fix) are shown
    to everyone; `controls_of` judges the controls of the surveyed tables."""

    def dashboard_for(user: str) -> Dashboard:
        return build_dashboard(
            sc,
            restores.store,
            survey,
            approver=authorizer.is_approver(user),
            warnings=warnings(),
            controls_of=controls_of,
        )

    return HomePublisher(client, dashboard_for)


def register(app: App, publisher: HomePublisher, restores: Restores) -> None:
    """Wire app_home_opened and the Home tab's buttons."""

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            publisher.opened(str(event["user"]))

    def decide(body: dict[str, Any], verb: Callable[[str, str], Decision]) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        value = str(body["actions"][0].get("value") or "")
        publisher.opened(user, _notice(lambda: verb(value, user)))

    @app.action(HOME_APPROVE_ACTION)
    def home_approve(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        decide(body, restores.approve)

    @app.action(HOME_REJECT_ACTION)
    def home_reject(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        decide(body, restores.reject)


def _notice(decide: Callable[[], Decision]) -> str:
    """What the click did, shown at the top of the refreshed tab."""
    try:
        decision = decide()
    except BotError as error:
        return f"{emoji.REFUSED} " + " ".join(error_lines(error))
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("home.restore_decision_failed", extra={"reference": reference})
        return f"{emoji.BROKEN} Something went wrong on my side (reference {reference}); nothing was decided."
    return decision_text(decision)
