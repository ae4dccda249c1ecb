"""`/ddb-drill` text → a typed request; its usage lives here and feeds `help` and every error."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bot.aws.tables import parse_table_ref
from bot.drills.service import DrillRequest
from bot.errors import UsageError
from bot.timefmt import parse_duration, parse_time
from handlers.kit.parsing import CommandHelp, HelpRequest, split_options, tokenize, wants_help, yes_or_no

DRILL = "/ddb-drill"
DRILL_HELP = CommandHelp(
    DRILL,
    "Restore drill (operators): ImportTable the table's latest full export (or, with `from=pitr`, restore the "
    "table to a point in time) into a tagged throwaway table, verify it (key schema, GSIs, item count, a sample "
    "compared attribute for attribute), time it, delete it.",
    (
        f"{DRILL} <table> [export=<export id>] [rto=<duration, e.g. 30m or 2h>] [keep=true]",
        f"{DRILL} <table> from=pitr [at=<time> | random=<duration, e.g. 7d>] [rto=<duration>] [keep=true]",
    ),
    (
        f"{DRILL} orders",
        f"{DRILL} prod:orders rto=1h",
        f"{DRILL} orders export=01768385930622-efd1a093 keep=true",
        f"{DRILL} orders from=pitr at=-2h",
        f"{DRILL} orders from=pitr random=7d rto=1h",
    ),
)


def parse_drill(text: str, aliases: Collection[str] = ()) -> DrillRequest | HelpRequest:
    """`<table> [from=export|pitr] [export=<id>] [at=<time>] [random=<duration>] [rto=<duration>]
    [keep=true|false]`."""
    tokens = tokenize(text, DRILL_HELP)
    if not tokens or wants_help(tokens):
        return HelpRequest(DRILL_HELP)
    words, options = split_options(tokens, ("from", "export", "at", "random", "rto", "keep"), DRILL_HELP)
    if len(words) != 1:
        raise UsageError(f"{DRILL} takes one table, not {len(words)} words.", DRILL_HELP.usage_text)
    from_pitr = drill_source(options)
    keep = yes_or_no(options.get("keep", "false"), "keep", DRILL_HELP)
    ref = parse_table_ref(words[0], frozenset(aliases))
    return DrillRequest(
        ref.display,
        options.get("export"),
        _duration(options.get("rto"), "rto"),
        keep,
        from_pitr=from_pitr,
        at=_moment(options.get("at")),
        random_seconds=_duration(options.get("random"), "random"),
    )


def drill_source(options: dict[str, str]) -> bool:
    """True for `from=pitr`; the options that go with each source checked (`export=` with exports, `at=` and
    `random=` with PITR, not both of those)."""
    source = options.get("from", "export").lower()
    if source not in {"export", "pitr"}:
        raise UsageError(f"`from=` is `export` or `pitr`, not `{source[:40]}`.", DRILL_HELP.usage_text)
    pitr_only = sorted(k for k in ("at", "random") if k in options)
    if source == "export" and pitr_only:
        raise UsageError(f"`{pitr_only[0]}=` picks a point in time: add `from=pitr`.", DRILL_HELP.usage_text)
    if source == "pitr" and "export" in options:
        raise UsageError("`export=` names an export to import; leave it out with `from=pitr`.", DRILL_HELP.usage_text)
    if len(pitr_only) == 2:
        raise UsageError("Give `at=` (one moment) or `random=` (a moment drawn at random), not both.")
    return source == "pitr"


def _moment(text: str | None) -> datetime | None:
    if text is None or text.strip().lower() == "latest":
        return None
    try:
        return parse_time(text, "at")
    except UsageError as error:
        raise UsageError(error.message, DRILL_HELP.usage_text) from None


def _duration(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    try:
        return parse_duration(text, option)
    except UsageError as error:
        raise UsageError(error.message, DRILL_HELP.usage_text) from None
