"""Command text → typed requests. Each command's usage lives here and feeds both `help` and parse errors."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass

from bot.aws.tables import parse_table_ref
from bot.errors import UsageError
from bot.exports.start import ExportOptions, check_bucket, check_format, check_owner
from bot.exports.status import looks_like_export
from bot.pitr import MAX_DAYS, MIN_DAYS
from bot.timefmt import ISO_EXAMPLE, parse_time


@dataclass(frozen=True)
class CommandHelp:
    """What a command does and how to write it."""

    command: str
    summary: str
    usage: tuple[str, ...]
    examples: tuple[str, ...]

    @property
    def usage_text(self) -> str:
        """The usage lines, one per form."""
        return "\n".join(self.usage)


HELP: dict[str, CommandHelp] = {
    "/ddb-pitr": CommandHelp(
        "/ddb-pitr",
        "Point-in-time recovery of a table: status, recovery window, and turning it on (operators).",
        ("/ddb-pitr <table>", f"/ddb-pitr <table> enable [days=<{MIN_DAYS}-{MAX_DAYS}>]"),
        ("/ddb-pitr orders", "/ddb-pitr prod:orders enable days=35"),
    ),
    "/ddb-export": CommandHelp(
        "/ddb-export",
        "Start a native Export to S3 (no read capacity used) and follow it to completion (operators).",
        (
            "/ddb-export <table> [bucket=<name>] [prefix=<p>] [owner=<12-digit account id>] "
            "[format=dynamodb_json|ion] [at=<ISO-8601>]",
            "/ddb-export <table> since=<ISO-8601> [until=<ISO-8601>]   (incremental, 15 minutes to 24 hours)",
        ),
        (
            "/ddb-export orders",
            f"/ddb-export orders bucket=acme-backups owner=123456789012 at={ISO_EXAMPLE}",
            "/ddb-export orders since=2026-01-14T00:00:00Z until=2026-01-14T06:00:00Z",
        ),
    ),
    "/ddb-status": CommandHelp(
        "/ddb-status",
        "Export status: recent exports of all tables, of one table, or one export in detail.",
        ("/ddb-status", "/ddb-status <table>", "/ddb-status <export id or export ARN>"),
        ("/ddb-status", "/ddb-status orders", "/ddb-status 01768385930622-efd1a093"),
    ),
    "/ddb-cost": CommandHelp(
        "/ddb-cost",
        "What backups of a table cost: PITR per month, one export, S3 storage, recent exports (list prices).",
        ("/ddb-cost <table>",),
        ("/ddb-cost orders",),
    ),
}

TABLE_HINT = "a table: `orders`, `<account alias>:orders` or the table's ARN"


@dataclass(frozen=True)
class HelpRequest:
    """The user asked for help, or gave no arguments to a command that needs some."""

    help: CommandHelp


@dataclass(frozen=True)
class PitrCommand:
    """`/ddb-pitr <table> [enable [days=N]]`."""

    table: str
    enable: bool = False
    days: int | None = None


@dataclass(frozen=True)
class ExportCommand:
    """`/ddb-export <table> [options]`."""

    table: str
    options: ExportOptions


@dataclass(frozen=True)
class StatusCommand:
    """`/ddb-status [<table> | <export id or ARN>]`."""

    target: str | None


@dataclass(frozen=True)
class CostCommand:
    """`/ddb-cost <table>`."""

    table: str


def tokenize(text: str, help_: CommandHelp, *, curly_single_quotes: bool = False) -> list[str]:
    """Split like a shell, so values may be quoted; unbalanced quotes are a usage error. Slack's curly double
    quotes count as quotes; curly single quotes too when asked (an apostrophe in a prefix would otherwise quote)."""
    text = text.replace("“", '"').replace("”", '"')
    if curly_single_quotes:
        text = text.replace("‘", "'").replace("’", "'")
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"Could not read the command: {exc} (check the quotes).", help_.usage_text) from None


def split_options(
    tokens: list[str],
    allowed: Collection[str],
    help_: CommandHelp,
    *,
    literal_prefixes: tuple[str, ...] = (),
    key_pattern: re.Pattern[str] | None = None,
    strip_values: bool = False,
    subject: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Separate positional words from key=value options, refusing unknown or repeated options.

    A token starting with one of `literal_prefixes` (e.g. `s3://`), or whose key does not match `key_pattern`, is a
    word even when it holds a `=`. `subject` names what takes the options in errors (default: the command).
    """
    words: list[str] = []
    options: dict[str, str] = {}
    for token in tokens:
        key, equals, value = token.partition("=")
        if not equals or token.startswith(literal_prefixes) or (key_pattern and not key_pattern.fullmatch(key)):
            words.append(token)
            continue
        key = key.lower()
        value = value.strip() if strip_values else value
        if key not in allowed:
            known = ", ".join(f"`{k}=`" for k in allowed) or "no options"
            raise UsageError(f"Unknown option `{key}=`. {subject or help_.command} takes {known}.", help_.usage_text)
        if key in options:
            raise UsageError(f"`{key}=` is given twice; give it once.", help_.usage_text)
        if not value:
            raise UsageError(f"`{key}=` has no value.", help_.usage_text)
        options[key] = value
    return words, options


def wants_help(tokens: list[str]) -> bool:
    """`help`, `-h` or `--help` anywhere in the text."""
    return any(t.lower() in {"help", "-h", "--help"} for t in tokens)


def _table(word: str, command: str, aliases: Collection[str]) -> str:
    try:
        parse_table_ref(word, set(aliases))
    except UsageError as exc:
        raise UsageError(exc.message, HELP[command].usage_text) from None
    return word


def _extra(words: list[str], expected: int, command: str) -> None:
    if len(words) > expected:
        extra = " ".join(words[expected:])
        raise UsageError(f"I don't understand `{extra}`.", HELP[command].usage_text)


def parse_pitr(text: str, aliases: Collection[str] = ()) -> PitrCommand | HelpRequest:
    """Parse /ddb-pitr."""
    command = "/ddb-pitr"
    tokens = tokenize(text, HELP[command])
    if not tokens or wants_help(tokens):
        return HelpRequest(HELP[command])
    words, options = split_options(tokens, ["days"], HELP[command])
    if not words:
        raise UsageError(f"Name {TABLE_HINT}.", HELP[command].usage_text)
    table = _table(words[0], command, aliases)
    enable = len(words) > 1 and words[1].lower() == "enable"
    if len(words) > 1 and not enable:
        raise UsageError(
            f"`{words[1]}` is not something /ddb-pitr does; did you mean `enable`?", HELP[command].usage_text
        )
    _extra(words, 2, command)
    if "days" in options and not enable:
        raise UsageError("`days=` only goes with `enable`.", HELP[command].usage_text)
    days = _days(options["days"]) if "days" in options else None
    return PitrCommand(table, enable, days)


def _days(text: str) -> int:
    if not text.isdigit() or not MIN_DAYS <= int(text) <= MAX_DAYS:
        raise UsageError(
            f"`days={text}` must be a whole number of days from {MIN_DAYS} to {MAX_DAYS}, e.g. `days=35`.",
            HELP["/ddb-pitr"].usage_text,
        )
    return int(text)


EXPORT_OPTIONS = ("bucket", "prefix", "owner", "format", "at", "since", "until")


def parse_export(text: str, aliases: Collection[str] = ()) -> ExportCommand | HelpRequest:
    """Parse /ddb-export."""
    command = "/ddb-export"
    tokens = tokenize(text, HELP[command])
    if not tokens or wants_help(tokens):
        return HelpRequest(HELP[command])
    words, raw = split_options(tokens, EXPORT_OPTIONS, HELP[command])
    if not words:
        raise UsageError(f"Name {TABLE_HINT}.", HELP[command].usage_text)
    table = _table(words[0], command, aliases)
    _extra(words, 1, command)
    if "until" in raw and "since" not in raw:
        raise UsageError(
            "`until=` needs `since=`: an incremental export covers [since, until).", HELP[command].usage_text
        )
    if "at" in raw and "since" in raw:
        raise UsageError(
            "Give either `at=` (full export at a point in time) or `since=` (incremental), not both.",
            HELP[command].usage_text,
        )
    try:
        options = export_options(raw)
    except UsageError as exc:
        raise UsageError(exc.message, HELP[command].usage_text) from None
    return ExportCommand(table, options)


def export_options(raw: dict[str, str]) -> ExportOptions:
    """Validate export options given as text (from a command or a schedule)."""
    return ExportOptions(
        bucket=check_bucket(raw["bucket"]) if "bucket" in raw else None,
        prefix=_prefix(raw["prefix"]) if "prefix" in raw else None,
        owner=check_owner(raw["owner"]) if "owner" in raw else None,
        export_format=check_format(raw["format"]) if "format" in raw else None,
        at=parse_time(raw["at"], "at") if "at" in raw else None,
        since=parse_time(raw["since"], "since") if "since" in raw else None,
        until=parse_time(raw["until"], "until") if "until" in raw else None,
    )


def _prefix(text: str) -> str:
    cleaned = text.strip("/")
    if len(cleaned) > 512 or any(ord(c) < 32 for c in cleaned) or "//" in cleaned:
        raise UsageError(
            f"`prefix={text}` is not a usable S3 prefix: use up to 512 printable characters "
            "without empty path parts, e.g. `prefix=backups/dynamodb`."
        )
    return cleaned


def parse_status(text: str, aliases: Collection[str] = ()) -> StatusCommand | HelpRequest:
    """Parse /ddb-status (no argument is valid: recent exports of all tables)."""
    command = "/ddb-status"
    tokens = tokenize(text, HELP[command])
    if wants_help(tokens):
        return HelpRequest(HELP[command])
    words, _ = split_options(tokens, [], HELP[command])
    _extra(words, 1, command)
    if not words:
        return StatusCommand(None)
    target = words[0]
    if not looks_like_export(target):
        _table(target, command, aliases)  # a table or an export id the store may know: both look like this
    return StatusCommand(target)


def parse_cost(text: str, aliases: Collection[str] = ()) -> CostCommand | HelpRequest:
    """Parse /ddb-cost."""
    command = "/ddb-cost"
    tokens = tokenize(text, HELP[command])
    if not tokens or wants_help(tokens):
        return HelpRequest(HELP[command])
    words, _ = split_options(tokens, [], HELP[command])
    _extra(words, 1, command)
    return CostCommand(_table(words[0], command, aliases))
