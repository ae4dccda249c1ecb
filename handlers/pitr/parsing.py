"""`/ddb-pitr` text → a typed request; its usage lives here and feeds `help` and every error."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.errors import UsageError
from bot.pitr import MAX_DAYS, MIN_DAYS
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

PITR_HELP = CommandHelp(
    "/ddb-pitr",
    "Point-in-time recovery of a table: status, recovery window, and turning it on (operators).",
    ("/ddb-pitr <table>", f"/ddb-pitr <table> enable [days=<{MIN_DAYS}-{MAX_DAYS}>]"),
    ("/ddb-pitr orders", "/ddb-pitr prod:orders enable days=35"),
)


@dataclass(frozen=True)
class PitrCommand:
    """`/ddb-pitr <table> [enable [days=N]]`."""

    table: str
    enable: bool = False
    days: int | None = None


def parse_pitr(text: str, aliases: Collection[str] = ()) -> PitrCommand | HelpRequest:
    """Parse /ddb-pitr."""
    tokens = tokenize(text, PITR_HELP)
    if not tokens or wants_help(tokens):
        return HelpRequest(PITR_HELP)
    words, options = split_options(tokens, ["days"], PITR_HELP)
    if not words:
        raise UsageError(f"Name {TABLE_HINT}.", PITR_HELP.usage_text)
    table = table_word(words[0], PITR_HELP, aliases)
    enable = len(words) > 1 and words[1].lower() == "enable"
    if len(words) > 1 and not enable:
        raise UsageError(f"`{words[1]}` is not something /ddb-pitr does; did you mean `enable`?", PITR_HELP.usage_text)
    no_extra_words(words, 2, PITR_HELP)
    if "days" in options and not enable:
        raise UsageError("`days=` only goes with `enable`.", PITR_HELP.usage_text)
    days = _days(options["days"]) if "days" in options else None
    return PitrCommand(table, enable, days)


def _days(text: str) -> int:
    if not text.isdigit() or not MIN_DAYS <= int(text) <= MAX_DAYS:
        raise UsageError(
            f"`days={text}` must be a whole number of days from {MIN_DAYS} to {MAX_DAYS}, e.g. `days=35`.",
            PITR_HELP.usage_text,
        )
    return int(text)
