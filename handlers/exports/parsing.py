"""`/ddb-export` and `/ddb-status` text → typed requests; their usage lives here and feeds `help` and every error."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.errors import UsageError
from bot.exports.encryption import check_kms_key
from bot.exports.start import ExportOptions, check_bucket, check_format, check_owner
from bot.exports.status import looks_like_export
from bot.timefmt import ISO_EXAMPLE, TIME_FORMS, parse_time, utcnow
from handlers.kit.parsing import (
    TABLE_HINT,
    CommandHelp,
    HelpRequest,
    no_extra_words,
    split_options,
    table_word,
    tokenize,
    wants_help,
    yes_or_no,
)

EXPORT_HELP = CommandHelp(
    "/ddb-export",
    "Start a native Export to S3 (no read capacity used) and follow it to completion (operators).",
    (
        "/ddb-export <table> [bucket=<name>] [prefix=<p>] [owner=<12-digit account id>] "
        "[format=dynamodb_json|ion] [kms=<KMS key ARN or alias/name>] [at=<time>] [force=true]",
        "/ddb-export <table> since=<time> [until=<time>]   (incremental, 15 minutes to 24 hours)",
        f"/ddb-export … <time> is {TIME_FORMS}",
    ),
    (
        "/ddb-export orders",
        f"/ddb-export orders bucket=acme-backups owner=123456789012 at={ISO_EXAMPLE}",
        "/ddb-export orders since=2026-01-14T00:00:00Z until=2026-01-14T06:00:00Z",
        "/ddb-export orders since=-6h until=-1h",
        "/ddb-export orders kms=alias/backups",
        "/ddb-export orders force=true",
    ),
)
STATUS_HELP = CommandHelp(
    "/ddb-status",
    "Export status: recent exports of all tables, of one table, or one export in detail.",
    ("/ddb-status", "/ddb-status <table>", "/ddb-status <export id or export ARN>"),
    ("/ddb-status", "/ddb-status orders", "/ddb-status 01768385930622-efd1a093"),
)


@dataclass(frozen=True)
class ExportCommand:
    """`/ddb-export <table> [options]`."""

    table: str
    options: ExportOptions
    force: bool = False


@dataclass(frozen=True)
class StatusCommand:
    """`/ddb-status [<table> | <export id or ARN>]`."""

    target: str | None


EXPORT_OPTIONS = ("bucket", "prefix", "owner", "format", "kms", "at", "since", "until", "force")


def parse_export(text: str, aliases: Collection[str] = ()) -> ExportCommand | HelpRequest:
    """Parse /ddb-export."""
    tokens = tokenize(text, EXPORT_HELP)
    if not tokens or wants_help(tokens):
        return HelpRequest(EXPORT_HELP)
    words, raw = split_options(tokens, EXPORT_OPTIONS, EXPORT_HELP)
    if not words:
        raise UsageError(f"Name {TABLE_HINT}.", EXPORT_HELP.usage_text)
    table = table_word(words[0], EXPORT_HELP, aliases)
    no_extra_words(words, 1, EXPORT_HELP)
    if "until" in raw and "since" not in raw:
        raise UsageError(
            "`until=` needs `since=`: an incremental export covers [since, until).", EXPORT_HELP.usage_text
        )
    if "at" in raw and "since" in raw:
        raise UsageError(
            "Give either `at=` (full export at a point in time) or `since=` (incremental), not both.",
            EXPORT_HELP.usage_text,
        )
    force = yes_or_no(raw.pop("force", "false"), "force", EXPORT_HELP)
    try:
        options = export_options(raw)
    except UsageError as exc:
        raise UsageError(exc.message, EXPORT_HELP.usage_text) from None
    return ExportCommand(table, options, force)


def export_options(raw: dict[str, str]) -> ExportOptions:
    """Validate export options given as text (from a command or a schedule); relative times count back from one
    moment, so `since=-2h until=-1h` is exactly an hour."""
    now = utcnow()
    return ExportOptions(
        bucket=check_bucket(raw["bucket"]) if "bucket" in raw else None,
        prefix=_prefix(raw["prefix"]) if "prefix" in raw else None,
        owner=check_owner(raw["owner"]) if "owner" in raw else None,
        export_format=check_format(raw["format"]) if "format" in raw else None,
        at=parse_time(raw["at"], "at", now) if "at" in raw else None,
        since=parse_time(raw["since"], "since", now) if "since" in raw else None,
        until=parse_time(raw["until"], "until", now) if "until" in raw else None,
        kms_key=check_kms_key(raw["kms"]) if "kms" in raw else None,
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
    tokens = tokenize(text, STATUS_HELP)
    if wants_help(tokens):
        return HelpRequest(STATUS_HELP)
    words, _ = split_options(tokens, [], STATUS_HELP)
    no_extra_words(words, 1, STATUS_HELP)
    if not words:
        return StatusCommand(None)
    target = words[0]
    if not looks_like_export(target):
        table_word(target, STATUS_HELP, aliases)  # a table or an export id the store may know: both look like this
    return StatusCommand(target)
