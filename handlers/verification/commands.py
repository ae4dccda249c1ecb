"""`/ddb-verify` (operators): acknowledge at once, queue the verification, answer with what was queued."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.models import Requester
from bot.verification.service import Verifications, queue_verification
from handlers.kit.commands import Reply, Surface, run_command
from handlers.verification import blocks as vb
from handlers.verification.parsing import VERIFY, VerifyCommand, parse_verify


def register(app: App, surface: Surface, verifications: Verifications) -> None:
    """Wire /ddb-verify to its listener."""

    def work(parsed: Any, requester: Requester) -> Reply:
        return verify(surface, verifications, parsed, requester)

    def command_ddb_verify(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        run_command(surface, VERIFY, ack, command, respond, parse_verify, work)

    app.command(VERIFY)(command_ddb_verify)


def verify(surface: Surface, verifications: Verifications, command: VerifyCommand, requester: Requester) -> Reply:
    """Queue the verification; the runner posts progress and the result in a thread of this channel."""
    surface.authorizer.require_operator(requester.user_id, "verify exports")
    queued = queue_verification(verifications, command.target, command.owner, requester)
    return Reply(vb.verification_queued(queued), in_channel=True)
