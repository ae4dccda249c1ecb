"""`/ddb-item`, `/ddb-recover` and `/ddb-revert` text → typed asks; each command's usage lives here and feeds `help`
and every parse error.

Key attributes are written by the names the table's key schema gives them (`orderId=A-1001 line=3`); which of them
the table has, and their types, only DescribeTable knows, so the words are kept as (name, text) pairs here and typed
by the use case. A key attribute named like an option (`at`) is written with a leading dot: `.at=5`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime

from bot.errors import UsageError
from bot.recovery.asks import KeyAsk, WindowAsk
from bot.restores.rate import parse_rate
from bot.timefmt import TIME_FORMS, parse_time, utcnow
from handlers.kit.parsing import TABLE_HINT, CommandHelp, HelpRequest, split_options, table_word, tokenize, wants_help

ITEM = "/ddb-item"
RECOVER = "/ddb-recover"
REVERT = "/ddb-revert"
TIME_LINE = f"<time> is {TIME_FORMS}"
KEY_LINE = (
    "Key attributes by the table's own names, typed as the table declares them (a number for N, base64 for B); "
    "without the sort key, the whole partition"
)
ITEM_HELP = CommandHelp(
    ITEM,
    "An item (or a whole partition) as it was at a time, beside the live item, and what differs (operators). "
    "Its contents are sent to you alone.",
    (
        f"{ITEM} <table> <partition attr>=<value> [<sort attr>=<value>] at=<time>",
        f"{ITEM} … {TIME_LINE}",
        f"{ITEM} … {KEY_LINE}",
    ),
    (f"{ITEM} orders orderId=A-1001 line=3 at=-2h", f"{ITEM} orders orderId=A-1001 at=2026-01-14T08:00:00Z"),
)
RECOVER_HELP = CommandHelp(
    RECOVER,
    "Put an item (or a whole partition) back as it was at a time, in place, after a second person approves. "
    "Items created since are deleted; a later change is never overwritten.",
    (
        f"{RECOVER} <table> <partition attr>=<value> [<sort attr>=<value>] at=<time>",
        f"{RECOVER} … {TIME_LINE}",
        f"{RECOVER} … {KEY_LINE}",
    ),
    (f"{RECOVER} orders orderId=A-1001 line=3 at=-2h", f"{RECOVER} orders orderId=A-1001 at=-90m"),
)
REVERT_HELP = CommandHelp(
    REVERT,
    "Undo every change made to a table in [since, until), in place, after a second person approves: items created "
    "in the window are deleted, items changed or deleted in it get their state at `since` back; a key changed again "
    "after the window is a conflict, left alone.",
    (
        f'{REVERT} <table> since=<time> until=<time> [where="<filter expression>"] [rate=<N>/s|<P>%]',
        f"{REVERT} … {TIME_LINE}",
        f"{REVERT} … where= narrows it to the items the filter selects (attribute names, 'quoted texts', numbers)",
        f"{REVERT} … rate= caps the writes: write units a second (rate=500/s) or a share of the table's capacity",
    ),
    (
        f"{REVERT} orders since=-90m until=-60m",
        f"{REVERT} orders since=2026-01-14T08:30:00Z until=2026-01-14T09:00:00Z where=\"deploy = 'v2.3.1'\" rate=25%",
    ),
)
AT_OPTION = re.compile(r"at", re.IGNORECASE)  # every other `name=value` word is a key attribute


def parse_item(text: str, aliases: Collection[str] = ()) -> KeyAsk | HelpRequest:
    """Parse /ddb-item."""
    return _keyed(text, ITEM_HELP, aliases)


def parse_recover(text: str, aliases: Collection[str] = ()) -> KeyAsk | HelpRequest:
    """Parse /ddb-recover."""
    return _keyed(text, RECOVER_HELP, aliases)


def parse_revert(text: str, aliases: Collection[str] = ()) -> WindowAsk | HelpRequest:
    """Parse /ddb-revert."""
    tokens = tokenize(text, REVERT_HELP)
    if not tokens or wants_help(tokens):
        return HelpRequest(REVERT_HELP)
    words, options = split_options(tokens, ("since", "until", "where", "rate"), REVERT_HELP)
    if len(words) != 1:
        raise _usage(REVERT_HELP, f"Name one table ({TABLE_HINT}), then `since=` and `until=`.")
    table = table_word(words[0], REVERT_HELP, aliases)
    for needed in ("since", "until"):
        if needed not in options:
            raise _usage(REVERT_HELP, f"Give `{needed}=`: the window undone is [since, until).")
    now = utcnow()
    try:
        rate = parse_rate(options["rate"]) if "rate" in options else None
        return WindowAsk(
            table,
            parse_time(options["since"], "since", now),
            parse_time(options["until"], "until", now),
            options.get("where"),
            rate,
        )
    except UsageError as error:
        raise _usage(REVERT_HELP, error.message) from None


def _keyed(text: str, help_: CommandHelp, aliases: Collection[str]) -> KeyAsk | HelpRequest:
    tokens = tokenize(text, help_)
    if not tokens or wants_help(tokens):
        return HelpRequest(help_)
    words, options = split_options(tokens, ("at",), help_, key_pattern=AT_OPTION)
    if "at" not in options:
        raise _usage(help_, "Give `at=<time>`: the moment to look back to, e.g. `at=-2h`.")
    if not words:
        raise _usage(help_, f"Name {TABLE_HINT}, then the key, e.g. `orders orderId=A-1001`.")
    table = table_word(words[0], help_, aliases)
    key = tuple(_key_part(word, help_) for word in words[1:])
    if not key:
        raise _usage(help_, "Give the item's key by its attribute names, e.g. `orderId=A-1001 line=3`.")
    return KeyAsk(table, key, _time(options["at"], help_))


def _key_part(word: str, help_: CommandHelp) -> tuple[str, str]:
    name, equals, value = word.partition("=")
    if not equals or not name or name == ".":
        raise _usage(help_, f"I don't understand `{word[:60]}`: write key attributes as `<name>=<value>`.")
    if not value:
        raise _usage(help_, f"`{name[:60]}=` has no value.")
    return (name[1:] if name.startswith(".") else name), value


def _time(text: str, help_: CommandHelp) -> datetime:
    try:
        return parse_time(text, "at")
    except UsageError as error:
        raise _usage(help_, error.message) from None


def _usage(help_: CommandHelp, message: str) -> UsageError:
    return UsageError(message, help_.usage_text)
