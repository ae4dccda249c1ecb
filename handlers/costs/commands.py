"""`/ddb-cost`: what backups of a table cost."""

from __future__ import annotations

from slack_bolt import App

from bot.costs import cost_report
from bot.models import Requester
from handlers.costs import blocks
from handlers.costs.parsing import CostCommand, parse_cost
from handlers.kit.commands import Reply, Surface, command_listener


def register(app: App, surface: Surface) -> None:
    """Wire /ddb-cost to its listener."""
    aliases = surface.core.aws.aliases
    app.command("/ddb-cost")(
        command_listener(surface, "/ddb-cost", lambda t: parse_cost(t, aliases), lambda c, r: cost(surface, c, r))
    )


def cost(surface: Surface, command: CostCommand, requester: Requester) -> Reply:
    """/ddb-cost: what backups of a table cost."""
    return Reply(blocks.cost_message(cost_report(surface.core, command.table)))
