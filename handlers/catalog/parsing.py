"""`/ddb-catalog <table> [at=<time>]` text → a typed request; its usage lives here and feeds `help` and every
error."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from bot.errors import UsageError
from bot.timefmt import ISO_EXAMPLE, TIME_FORMS, parse_time
from handlers.kit.parsing import (
    TABLE_HINT,
    CommandHelp,
    HelpRequest,
    no_extra_words,
    split_options,
    table_word,
    tokenize,
    wants_help,
)

COMMAND = "/ddb-catalog"
HELP = CommandHelp(
    COMMAND,
    "Every export of a table, also those DynamoDB forgot after 90 days (found in the export buckets), with type, "
    "time, size, KMS key and whether it was verified and drilled; with at=, the exports that restore it then.",
    (f"{COMMAND} <table> [at=<time>]", f"{COMMAND} … <time> is {TIME_FORMS}"),
    (f"{COMMAND} orders", f"{COMMAND} prod:orders at={ISO_EXAMPLE}", f"{COMMAND} orders at=-2d"),
)


@dataclass(frozen=True)
class CatalogCommand:
    """A table, and the time to restore it as of (None: list its exports)."""

    table: str
    at: datetime | None = None


def parse_catalog(text: str, aliases: Collection[str] = ()) -> CatalogCommand | HelpRequest:
    """Parse /ddb-catalog."""
    tokens = tokenize(text, HELP)
    if not tokens or wants_help(tokens):
        return HelpRequest(HELP)
    words, options = split_options(tokens, ("at",), HELP)
    if not words:
        raise UsageError(f"Name {TABLE_HINT}.", HELP.usage_text)
    table = table_word(words[0], HELP, aliases)
    no_extra_words(words, 1, HELP)
    try:
        at = parse_time(options["at"], "at") if "at" in options else None
    except UsageError as error:
        raise UsageError(error.message, HELP.usage_text) from None
    return CatalogCommand(table, at)
