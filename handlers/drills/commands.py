"""`/ddb-drill` (operators): acknowledge at once, queue the drill, answer with what was queued."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.drills.service import DrillRequest, Drills, queue_drill
from bot.models import Requester
from handlers.drills import blocks as db
from handlers.drills.parsing import DRILL, parse_drill
from handlers.kit.commands import Reply, Surface, run_command


def register(app: App, surface: Surface, drills: Drills) -> None:
    """Wire /ddb-drill to its listener."""
    aliases = surface.core.aws.aliases

    def drill_work(parsed: Any, requester: Requester) -> Reply:
        return drill(surface, drills, parsed, requester)

    def command_ddb_drill(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        run_command(surface, DRILL, ack, command, respond, lambda text: parse_drill(text, aliases), drill_work)

    app.command(DRILL)(command_ddb_drill)


def drill(surface: Surface, drills: Drills, request: DrillRequest, requester: Requester) -> Reply:
    """Queue the drill (no approval: it changes no data the team owns); the plan is the answer."""
    surface.authorizer.require_operator(requester.user_id, "run restore drills")
    return Reply(db.drill_queued(queue_drill(drills, request, requester)), in_channel=True)
