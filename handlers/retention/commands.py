"""`/ddb-retention <table> [keep=<N>d] [fulls=<n>]` (everyone: it only reads) and `/ddb-retention <table> delete
<export>` (operators: a request a second person approves): acknowledge, do the work, answer through response_url."""

from __future__ import annotations

from slack_bolt import App

from bot.models import Requester
from bot.retention.deletions import Deletions
from bot.retention.service import retention_report
from handlers.kit.commands import Reply, Surface, command_listener
from handlers.retention.blocks import retention_message
from handlers.retention.deletion_blocks import deletion_asked
from handlers.retention.parsing import COMMAND, DeleteCommand, RetentionCommand, parse_retention


def register(app: App, surface: Surface, deletions: Deletions) -> None:
    """Wire /ddb-retention to its listener."""
    aliases = surface.core.aws.aliases

    def work(command: RetentionCommand | DeleteCommand, requester: Requester) -> Reply:
        if isinstance(command, DeleteCommand):
            return Reply(deletion_asked(deletions.request(command.table, command.export, requester)))
        return Reply(retention_message(retention_report(deletions.retention, command.table, command.ask)))

    app.command(COMMAND)(command_listener(surface, COMMAND, lambda t: parse_retention(t, aliases), work))
