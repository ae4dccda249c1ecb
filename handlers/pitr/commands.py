"""`/ddb-pitr`: point-in-time recovery of a table, its status and turning it on (operators)."""

from __future__ import annotations

from slack_bolt import App

from bot.models import Requester
from bot.pitr import PitrChange, enable_pitr, pitr_status
from handlers.drills.blocks import last_drill_block
from handlers.kit.blocks import fit_blocks
from handlers.kit.commands import Reply, Surface, command_listener
from handlers.pitr import blocks
from handlers.pitr.parsing import PitrCommand, parse_pitr


def register(app: App, surface: Surface) -> None:
    """Wire /ddb-pitr to its listener."""
    aliases = surface.core.aws.aliases
    app.command("/ddb-pitr")(
        command_listener(surface, "/ddb-pitr", lambda t: parse_pitr(t, aliases), lambda c, r: pitr(surface, c, r))
    )


def pitr(surface: Surface, command: PitrCommand, requester: Requester) -> Reply:
    """/ddb-pitr: status, or enable (operators)."""
    if command.enable:
        surface.authorizer.require_operator(requester.user_id, "turn on point-in-time recovery")
        enabled = enable_pitr(surface.core, command.table, command.days, requester.user_id)
        return Reply(blocks.pitr_message(enabled), in_channel=enabled.change != PitrChange.ALREADY_ON)
    report = pitr_status(surface.core, command.table)
    shown = blocks.pitr_message(report)
    table = report.table.ref
    drilled = last_drill_block(
        surface.last_drill(table.key), table.display, surface.core.clock(), surface.drill_max_age
    )
    return Reply({**shown, "blocks": fit_blocks([*shown["blocks"], drilled])})
