"""`/ddb-help` text → the index of every command, or one command's own help (`/ddb-help export`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import UsageError
from bot.words import nearest
from handlers.kit.parsing import CommandHelp, HelpRequest, tokenize

COMMAND = "/ddb-help"
HELP_HELP = CommandHelp(
    COMMAND,
    "Every command of the bot with what it does; `/ddb-help <command>` shows one command's usage.",
    (f"{COMMAND}", f"{COMMAND} <command>"),
    (f"{COMMAND}", f"{COMMAND} export", f"{COMMAND} /ddb-restore"),
)


@dataclass(frozen=True)
class HelpIndex:
    """`/ddb-help`: every command, one line each."""


def parse_help(text: str, helps: Sequence[CommandHelp]) -> HelpIndex | HelpRequest:
    """Parse /ddb-help: nothing (the index) or one command, with or without `/ddb-` (`export`, `/ddb-export`)."""
    words = tokenize(text, HELP_HELP)
    if not words:
        return HelpIndex()
    if len(words) > 1:
        raise UsageError(f"`{COMMAND}` takes one command at most, e.g. `{COMMAND} export`.", HELP_HELP.usage_text)
    by_name = {h.command.removeprefix("/ddb-"): h for h in helps}
    asked = words[0].lower().removeprefix("/").removeprefix("ddb-")
    if asked in by_name:
        return HelpRequest(by_name[asked])
    guess = nearest(asked, by_name)
    hint = f" Did you mean `/ddb-{guess}`?" if guess else ""
    raise UsageError(f"There is no command `{words[0]}`.{hint} `{COMMAND}` lists them all.", HELP_HELP.usage_text)
