"""`/ddb-help`: every command with what it does, or one command's usage; acknowledged with the answer itself."""

from __future__ import annotations

from collections.abc import Sequence

from slack_bolt import App

from handlers.help.blocks import command_index
from handlers.help.parsing import COMMAND, HELP_HELP, parse_help
from handlers.kit.commands import Reply, Surface, command_listener
from handlers.kit.parsing import CommandHelp


def register(app: App, surface: Surface, helps: Sequence[CommandHelp]) -> None:
    """Wire /ddb-help; `helps` are the other commands' own CommandHelp (one source for their summaries)."""
    listed = (*helps, HELP_HELP)
    app.command(COMMAND)(
        command_listener(surface, COMMAND, lambda t: parse_help(t, listed), lambda _c, _r: Reply(command_index(listed)))
    )
