"""`/ddb-coverage [<alias>|all] [region=<region>]`: which tables are protected, across accounts."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.coverage.survey import ALL
from bot.errors import UsageError
from handlers.kit.parsing import CommandHelp, HelpRequest, split_options, tokenize, wants_help

COMMAND = "/ddb-coverage"
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
HELP = CommandHelp(
    COMMAND,
    "Backup coverage of every table: PITR, the last export, schedules, deletion protection; worst first.",
    (f"{COMMAND} [all|<account alias>] [region=<region>]",),
    (f"{COMMAND}", f"{COMMAND} prod", f"{COMMAND} all region=eu-west-1"),
)


@dataclass(frozen=True)
class CoverageCommand:
    """Which places to survey."""

    scope: str = ALL
    region: str | None = None


def parse_coverage(text: str, aliases: Collection[str] = ()) -> CoverageCommand | HelpRequest:
    """Parse the command's text; a UsageError says how to write it."""
    return parse_scope(text, aliases, HELP)


def parse_scope(text: str, aliases: Collection[str], help_: CommandHelp) -> CoverageCommand | HelpRequest:
    """`[all|<alias>] [region=<region>]`, as `/ddb-coverage` and `/ddb-report` take it; errors show `help_`."""
    tokens = tokenize(text, help_)
    if wants_help(tokens):
        return HelpRequest(help_)
    words, options = split_options(tokens, ("region",), help_)
    if len(words) > 1:
        raise UsageError(f"I don't understand `{' '.join(words[1:])}`.", help_.usage_text)
    scope = words[0] if words else ALL
    if scope != ALL and scope not in aliases:
        known = ", ".join(f"`{a}`" for a in sorted(aliases)) or "none are configured"
        raise UsageError(f"`{scope}` is not an account alias (known: {known}); or write `all`.", help_.usage_text)
    region = options.get("region")
    if region is not None and not REGION.fullmatch(region):
        raise UsageError(f"`region={region}` is not an AWS region, e.g. `region=eu-west-1`.", help_.usage_text)
    return CoverageCommand(scope, region)
