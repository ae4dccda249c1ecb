"""`/ddb-retention <table> [keep=<N>d] [fulls=<n>]` and `/ddb-retention <table> delete <export>` text → a typed
request; its usage lives here and feeds `help` and every error."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.config import MAX_FULLS, keep_days, keep_problem
from bot.errors import UsageError
from bot.retention.models import RetentionAsk
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

COMMAND = "/ddb-retention"
DELETE = "delete"
EXPORT_WORD = re.compile(r"^(arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[\w.-]{3,255}/export/)?[\w.-]{1,128}$")
HELP = CommandHelp(
    COMMAND,
    "What the lifecycle rules of a table's export buckets will delete and when, what that breaks (a chain's base "
    "full export, fewer full exports than asked), and the rule that keeps what you ask (JSON and Terraform, to apply "
    "yourself). With delete, a request to delete one export early, which a second person approves.",
    (
        f"{COMMAND} <table> [keep=<days>d] [fulls=<n>]",
        f"{COMMAND} <table> delete <export id or ARN>",
    ),
    (
        f"{COMMAND} orders keep=35d fulls=4",
        f"{COMMAND} prod:orders",
        f"{COMMAND} orders delete 01700000000000-abcd1234",
    ),
)


@dataclass(frozen=True)
class RetentionCommand:
    """Show a table's retention, with what was asked on the command line (None: the config file's, if any)."""

    table: str
    ask: RetentionAsk


@dataclass(frozen=True)
class DeleteCommand:
    """Ask for one export of the table to be deleted early."""

    table: str
    export: str


def parse_retention(text: str, aliases: Collection[str] = ()) -> RetentionCommand | DeleteCommand | HelpRequest:
    """Parse /ddb-retention."""
    tokens = tokenize(text, HELP)
    if not tokens or wants_help(tokens):
        return HelpRequest(HELP)
    words, options = split_options(tokens, ("keep", "fulls"), HELP)
    if not words:
        raise UsageError(f"Name {TABLE_HINT}.", HELP.usage_text)
    table = table_word(words[0], HELP, aliases)
    if len(words) > 1 and words[1].lower() == DELETE:
        return _delete(table, words, options)
    no_extra_words(words, 1, HELP)
    return RetentionCommand(table, RetentionAsk(_keep(options.get("keep")), _fulls(options.get("fulls"))))


def _delete(table: str, words: list[str], options: dict[str, str]) -> DeleteCommand:
    if options:
        raise UsageError(f"`{DELETE}` takes no options: name the export only.", HELP.usage_text)
    if len(words) < 3:
        raise UsageError("Name the export to delete: its id or its ARN.", HELP.usage_text)
    no_extra_words(words, 3, HELP)
    if not EXPORT_WORD.match(words[2]):
        raise UsageError(
            "That is not an export id or an export ARN (`arn:aws:dynamodb:<region>:<account>:table/<table>/export/"
            "<id>`).",
            HELP.usage_text,
        )
    return DeleteCommand(table, words[2])


def _keep(text: str | None) -> int | None:
    if text is None:
        return None
    problem = keep_problem(text)
    if problem is not None:
        raise UsageError(f"`keep=` {problem.removesuffix('.')}: keep=35d.", HELP.usage_text)
    return keep_days(text)


def _fulls(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_FULLS:
        raise UsageError(
            f"`fulls=` must be a whole number of full exports from 1 to {MAX_FULLS:,}: fulls=4.", HELP.usage_text
        )
    return int(text)
