"""`/ddb-cost` text → a typed request; its usage lives here and feeds `help` and every error."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from handlers.kit.parsing import (
    CommandHelp,
    HelpRequest,
    no_extra_words,
    split_options,
    table_word,
    tokenize,
    wants_help,
)

COST_HELP = CommandHelp(
    "/ddb-cost",
    "What backups of a table cost: PITR per month, one export, S3 storage, recent exports (list prices).",
    ("/ddb-cost <table>",),
    ("/ddb-cost orders",),
)


@dataclass(frozen=True)
class CostCommand:
    """`/ddb-cost <table>`."""

    table: str


def parse_cost(text: str, aliases: Collection[str] = ()) -> CostCommand | HelpRequest:
    """Parse /ddb-cost."""
    tokens = tokenize(text, COST_HELP)
    if not tokens or wants_help(tokens):
        return HelpRequest(COST_HELP)
    words, _ = split_options(tokens, [], COST_HELP)
    no_extra_words(words, 1, COST_HELP)
    return CostCommand(table_word(words[0], COST_HELP, aliases))
