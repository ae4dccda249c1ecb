"""`/ddb-report [all|<alias>] [region=<region>]`: the controls evidence files, shared in the channel."""

from __future__ import annotations

from collections.abc import Collection

from handlers.coverage.parsing import CoverageCommand, parse_scope
from handlers.kit.parsing import CommandHelp, HelpRequest

COMMAND = "/ddb-report"
REPORT_HELP = CommandHelp(
    COMMAND,
    "Evidence of the backup controls of every table (backup frequency, retention, immutable copy, copy in another "
    "account, restore proven): a CSV and a Markdown file shared in this channel.",
    (f"{COMMAND} [all|<account alias>] [region=<region>]",),
    (f"{COMMAND}", f"{COMMAND} prod", f"{COMMAND} all region=eu-west-1"),
)


def parse_report(text: str, aliases: Collection[str] = ()) -> CoverageCommand | HelpRequest:
    """Parse the command's text (the places, as `/ddb-coverage` takes them); a UsageError says how to write it."""
    return parse_scope(text, aliases, REPORT_HELP)
