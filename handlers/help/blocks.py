"""Block Kit for /ddb-help: every command with its one-line summary, from each command's own CommandHelp."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.kit.blocks import Message, context, escape, message, section
from handlers.kit.parsing import CommandHelp
from handlers.kit.text import plural


def command_index(helps: Sequence[CommandHelp]) -> Message:
    """The index: `/ddb-export` — what it does, a section each (so no summary is cut), then how to see one
    command's usage; a message holds 50 blocks, far more than the bot has commands."""
    lines = [section(f"`{escape(h.command, 100)}` — {escape(h.summary, 600)}") for h in helps]
    return message(
        f"The bot's {plural(len(helps), 'command')}",
        section("*What the bot can do*"),
        *lines,
        context("Usage and examples of one command: `/ddb-help export`, or the command followed by `help`."),
    )
