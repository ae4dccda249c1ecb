"""The Enable PITR button of a coverage row: operators only, through the same audited path as `/ddb-pitr … enable`."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.coverage.survey import CoverageSurvey
from bot.errors import BotError
from bot.pitr import enable_pitr
from handlers.blocks import error_message, pitr_message, unexpected_error
from handlers.commands import Surface
from handlers.coverage.blocks import ENABLE_PITR_ACTION

logger = logging.getLogger(__name__)


def register(app: App, surface: Surface, survey: CoverageSurvey) -> None:
    """Wire the coverage buttons."""

    @app.action(ENABLE_PITR_ACTION)
    def enable_pitr_from_coverage(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user = str((body.get("user") or {}).get("id") or "")
        table = str(body["actions"][0].get("value") or "")
        respond(**_enable(surface, survey, user, table), response_type="ephemeral", replace_original=False)


def _enable(surface: Surface, survey: CoverageSurvey, user: str, table: str) -> dict[str, Any]:
    try:
        surface.authorizer.require_operator(user, "turn on PITR")
        report = enable_pitr(surface.core, table, None, user)
    except BotError as error:
        surface.core.store.audit(user, "pitr.enable", table, {"from": "coverage"}, f"refused: {error}")
        return dict(error_message(error))
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("coverage: enabling PITR failed table=%s reference=%s", table, reference)
        return dict(unexpected_error(reference))
    survey.forget()
    return dict(pitr_message(report))
