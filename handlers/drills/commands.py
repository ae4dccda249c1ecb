"""`/ddb-verify` and `/ddb-drill` (operators): acknowledge at once, queue the work, answer with what was queued."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.drills.drill_service import DrillRequest, Drills, queue_drill
from bot.drills.service import Verifications, queue_verification
from bot.models import Requester
from handlers.commands import Reply, Surface, run_command
from handlers.drills import blocks as vb
from handlers.drills.parsing import DRILL, VERIFY, VerifyCommand, parse_drill, parse_verify


def register(app: App, surface: Surface, verifications: Verifications, drills: Drills) -> None:
    """Wire /ddb-verify and /ddb-drill to their listeners."""
    aliases = surface.core.aws.aliases

    def work(parsed: Any, requester: Requester) -> Reply:
        return verify(surface, verifications, parsed, requester)

    def command_ddb_verify(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        run_command(surface, VERIFY, ack, command, respond, parse_verify, work)

    app.command(VERIFY)(command_ddb_verify)

    def drill_work(parsed: Any, requester: Requester) -> Reply:
        return drill(surface, drills, parsed, requester)

    def command_ddb_drill(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        run_command(surface, DRILL, ack, command, respond, lambda text: parse_drill(text, aliases), drill_work)

    app.command(DRILL)(command_ddb_drill)


def verify(surface: Surface, verifications: Verifications, command: VerifyCommand, requester: Requester) -> Reply:
    """Queue the verification; the runner posts progress and the result in a thread of this channel."""
    surface.authorizer.require_operator(requester.user_id, "verify exports")
    queued = queue_verification(verifications, command.target, command.owner, requester)
    return Reply(vb.verification_queued(queued), in_channel=True)


def drill(surface: Surface, drills: Drills, request: DrillRequest, requester: Requester) -> Reply:
    """Queue the drill (no approval: it changes no data the team owns); the plan is the answer."""
    surface.authorizer.require_operator(requester.user_id, "run restore drills")
    return Reply(vb.drill_queued(queue_drill(drills, request, requester)), in_channel=True)
