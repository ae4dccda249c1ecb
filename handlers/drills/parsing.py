"""`/ddb-drill` text → a typed request; its usage lives here and feeds `help` and every error."""

from __future__ import annotations

from collections.abc import Collection

from bot.aws.tables import parse_table_ref
from bot.drills.service import DrillRequest
from bot.errors import UsageError
from bot.timefmt import parse_duration
from handlers.kit.parsing import CommandHelp, HelpRequest, split_options, tokenize, wants_help, yes_or_no

DRILL = "/ddb-drill"
DRILL_HELP = CommandHelp(
    DRILL,
    "Restore drill (operators): ImportTable the table's latest full export into a tagged throwaway table, verify "
    "it (key schema, GSIs, item count, a sample compared attribute for attribute), time it, delete it.",
    (f"{DRILL} <table> [export=<export id>] [rto=<duration, e.g. 30m or 2h>] [keep=true]",),
    (f"{DRILL} orders", f"{DRILL} prod:orders rto=1h", f"{DRILL} orders export=01768385930622-efd1a093 keep=true"),
)


def parse_drill(text: str, aliases: Collection[str] = ()) -> DrillRequest | HelpRequest:
    """`<table> [from=export] [export=<id>] [rto=<duration>] [keep=true|false]`."""
    tokens = tokenize(text, DRILL_HELP)
    if not tokens or wants_help(tokens):
        return HelpRequest(DRILL_HELP)
    words, options = split_options(tokens, ("from", "export", "rto", "keep"), DRILL_HELP)
    if len(words) != 1:
        raise UsageError(f"{DRILL} takes one table, not {len(words)} words.", DRILL_HELP.usage_text)
    source = options.get("from", "export").lower()
    if source == "pitr":
        raise UsageError("`from=pitr` drills are not supported yet; drill from an export.", DRILL_HELP.usage_text)
    if source != "export":
        raise UsageError(f"`from=` is `export`, not `{source[:40]}`.", DRILL_HELP.usage_text)
    keep = yes_or_no(options.get("keep", "false"), "keep", DRILL_HELP)
    ref = parse_table_ref(words[0], frozenset(aliases))
    return DrillRequest(ref.display, options.get("export"), _duration(options.get("rto")), keep)


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_duration(text, "rto")
    except UsageError as error:
        raise UsageError(error.message, DRILL_HELP.usage_text) from None
