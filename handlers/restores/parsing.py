"""`/ddb-restore` text → a typed request. Its usage lives here and feeds both `help` and every parse error."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from bot.aws.names import is_account_id
from bot.aws.tables import parse_table_ref
from bot.catalog.restore import AsOfRequest
from bot.errors import UsageError
from bot.exports.files import parse_s3_export_url
from bot.exports.status import EXPORT_ARN
from bot.restores.bulk_options import Engine, Tier
from bot.restores.models import RestoreMode
from bot.restores.plans import BILLING, RestoreSpec
from bot.restores.rate import RateRequest, parse_rate
from bot.timefmt import ISO_EXAMPLE, TIME_FORMS, parse_time
from handlers.kit.parsing import CommandHelp, HelpRequest, split_options, tokenize, wants_help

COMMAND = "/ddb-restore"
RESTORE_HELP = CommandHelp(
    COMMAND,
    "Restore from an export or from PITR — only after another person approves it in Slack.",
    (
        "/ddb-restore <export> to=<new table> [key=<attr>:<S|N|B>[,<attr>:<S|N|B>]] [billing=on-demand|provisioned]"
        " [owner=<12-digit account>]",
        "/ddb-restore <export> [<export> …] into=<existing table> [rate=<N>/s|<P>%] [engine=bulk|loader]"
        " [tier=standard|accelerated] [owner=<12-digit account>]",
        "/ddb-restore pitr <table> to=<new table> [at=<time>|latest] [billing=on-demand|provisioned]",
        "/ddb-restore cancel <request id>   (operators: stop a restore; what was written stays)",
        "/ddb-restore retry <request id>   (operators: ask again for a failed, partial or cancelled restore)",
        "/ddb-restore <table> at=<time> into=<existing table>|to=<new table>   (the bot picks PITR inside its "
        "window, else the catalogue's full export and incrementals: see /ddb-catalog)",
        "/ddb-restore [<table>]   (recent exports, each with a Restore… button)",
        "<export> is an export id, an export ARN, or s3://<bucket>/<prefix>/AWSDynamoDB/<ExportId>/",
        "owner= is the account that owns an s3:// export's bucket; it is needed when that bucket is not one of the "
        "bot's export buckets, and S3 refuses the reads if someone else owns it",
        f"<time> is {TIME_FORMS}",
        "rate= caps the writes: write units a second (rate=2000/s) or a share of the table's write "
        "capacity (rate=50%); without it, the default rate whoever runs the bot set. With bulk put it is "
        "MaxWriteRequestUnits, at least 1,024",
        "engine= picks what writes a full export into=: DynamoDB's bulk put (engine=bulk) or the bot's loader "
        "(engine=loader); by default bulk put where it can run, else the loader, and the request says why",
        "tier= is bulk put's performance tier: standard (the default) or accelerated",
    ),
    (
        "/ddb-restore 01768385930622-efd1a093 to=orders-restored",
        "/ddb-restore s3://acme-backups/orders/AWSDynamoDB/01768385930622-efd1a093/ to=orders-copy key=pk:S,sk:S",
        "/ddb-restore 01768385930622-efd1a093 01768389530622-0a1b2c3d into=orders-staging",
        "/ddb-restore 01768385930622-efd1a093 into=orders rate=25%",
        "/ddb-restore s3://partner-backups/orders/AWSDynamoDB/01768385930622-efd1a093/ into=orders-staging "
        "owner=210987654321",
        f"/ddb-restore pitr orders to=orders-before-incident at={ISO_EXAMPLE}",
        "/ddb-restore 01768385930622-efd1a093 into=orders-staging engine=loader",
        "/ddb-restore cancel r-0123456789",
        "/ddb-restore retry r-0123456789",
        "/ddb-restore pitr orders to=orders-before-incident at=-2h",
        f"/ddb-restore orders at={ISO_EXAMPLE} into=orders-staging",
        "/ddb-restore orders",
    ),
)
OPTIONS = ("to", "into", "key", "billing", "at", "owner", "rate", "engine", "tier")
REQUEST_ID = re.compile(r"^r-[0-9a-f]{10}$")
CONTROL_WORDS = ("cancel", "retry")
# moto's export ARNs nest the table ARN and say /import/: accept any DynamoDB table ARN path; the lookup decides.
LENIENT_EXPORT_ARN = re.compile(r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/\S+/\S+$")
EXPORT_ID_TEXT = re.compile(r"^[A-Za-z0-9-]{6,128}$")
KEY_PART = re.compile(r"^(?P<name>[^:,\s]{1,255}):(?P<kind>[SNBsnb])$")


@dataclass(frozen=True)
class RestoreCommand:
    """A restore to check and post for approval."""

    spec: RestoreSpec


@dataclass(frozen=True)
class RestoreControlCommand:
    """`/ddb-restore cancel <id>` or `/ddb-restore retry <id>`."""

    action: str
    request_id: str


@dataclass(frozen=True)
class RestoreListing:
    """`/ddb-restore` or `/ddb-restore <table>`: recent completed exports with Restore… buttons."""

    table: str | None


def parse_restore(
    text: str, aliases: Collection[str] = ()
) -> RestoreCommand | RestoreListing | RestoreControlCommand | AsOfRequest | HelpRequest:
    """Parse /ddb-restore; raises UsageError (with the usage) when the text is not one of its forms."""
    tokens = tokenize(text, RESTORE_HELP)
    if wants_help(tokens):
        return HelpRequest(RESTORE_HELP)
    words, options = split_options(tokens, OPTIONS, RESTORE_HELP, literal_prefixes=("s3://",))
    if not words and not options:
        return RestoreListing(None)
    if words and words[0].lower() in CONTROL_WORDS:
        return _control(words, options)
    if words and words[0].lower() == "pitr":
        return RestoreCommand(_pitr(words[1:], options, aliases))
    if len(words) == 1 and "at" in options and not _is_export_text(words[0]):
        return _as_of(words[0], options, aliases)
    if not options:
        if len(words) == 1 and not _is_export_text(words[0]):
            return RestoreListing(_table(words[0], "the table", aliases))
        raise _usage("Say where to restore: `to=<new table>` (ImportTable) or `into=<existing table>`.")
    if "to" in options and "into" in options:
        raise _usage("Give either `to=` (a new table) or `into=` (an existing table), not both.")
    if not words:
        raise _usage("Name the export to restore: its id, its ARN or its S3 URL.")
    for word in words:
        _check_export(word)
    if "at" in options:
        raise _usage("`at=` goes with `pitr`: `/ddb-restore pitr <table> to=<new table> at=<time>`.")
    owner = _owner(options.get("owner"), words)
    if "into" in options:
        for option in ("key", "billing"):
            if option in options:
                raise _usage(f"`{option}=` only goes with `to=`: `into=` writes into a table that already exists.")
        target = _table(options["into"], "`into=`", aliases)
        rate = _rate(options["rate"]) if "rate" in options else None
        engine, tier = _engine(options.get("engine")), _tier(options.get("tier"))
        if engine == Engine.LOADER and tier is not None:
            raise _usage("`tier=` is bulk put's; it does not go with `engine=loader`.")
        spec = RestoreSpec(RestoreMode.LOAD, tuple(words), target, owner=owner, rate=rate, engine=engine, tier=tier)
        return RestoreCommand(spec)
    if "rate" in options:
        raise _usage("`rate=` only goes with `into=`: ImportTable and PITR restores use no write capacity.")
    for option in ("engine", "tier"):
        if option in options:
            raise _usage(f"`{option}=` only goes with `into=`: it chooses how an existing table is written.")
    if "to" not in options:
        raise _usage("Say where to restore: `to=<new table>` (ImportTable) or `into=<existing table>`.")
    if len(words) > 1:
        raise _usage("`to=` restores one full export into a new table; to apply several exports use `into=`.")
    target = _table(options["to"], "`to=`", aliases)
    key = _key(options["key"]) if "key" in options else ()
    billing = _billing(options.get("billing"))
    return RestoreCommand(RestoreSpec(RestoreMode.IMPORT, (words[0],), target, key, billing, owner=owner))


def _pitr(words: list[str], options: dict[str, str], aliases: Collection[str]) -> RestoreSpec:
    if len(words) != 1:
        raise _usage("`pitr` restores one table: `/ddb-restore pitr <table> to=<new table> [at=<time>|latest]`.")
    for option in ("into", "key", "owner", "rate", "engine", "tier"):
        if option in options:
            raise _usage(f"`{option}=` does not go with `pitr`; a point-in-time restore creates a new table (`to=`).")
    if "to" not in options:
        raise _usage("Name the new table: `/ddb-restore pitr <table> to=<new table>`.")
    source = _table(words[0], "the table", aliases)
    target = _table(options["to"], "`to=`", aliases)
    at_text = options.get("at", "latest")
    at = None if at_text.lower() == "latest" else _time(at_text)
    return RestoreSpec(RestoreMode.PITR, (source,), target, billing=_billing(options.get("billing")), at=at)


def _control(words: list[str], options: dict[str, str]) -> RestoreControlCommand:
    action = words[0].lower()
    if options or len(words) != 2 or not REQUEST_ID.match(words[1]):
        raise _usage(f"`{action}` takes one request id: `/ddb-restore {action} r-0123456789`.")
    return RestoreControlCommand(action, words[1])


def _engine(text: str | None) -> Engine | None:
    if text is None:
        return None
    try:
        return Engine(text.lower())
    except ValueError:
        raise _usage(f"`engine={text}` must be `engine=bulk` (DynamoDB's bulk put) or `engine=loader`.") from None


def _tier(text: str | None) -> Tier | None:
    if text is None:
        return None
    try:
        return Tier(text.lower())
    except ValueError:
        raise _usage(f"`tier={text}` must be `tier=standard` (the default) or `tier=accelerated`.") from None


def _as_of(table: str, options: dict[str, str], aliases: Collection[str]) -> AsOfRequest:
    """`<table> at=<time> into=…|to=…`: the bot picks the exports (or PITR), so `owner=` has no place here."""
    if ("to" in options) == ("into" in options):
        raise _usage("Say where to restore the table as of that time: `into=<existing table>` or `to=<new table>`.")
    if "owner" in options:
        raise _usage("`owner=` goes with an s3:// export; with `<table> at=` the bot picks the exports itself.")
    for option in ("engine", "tier"):
        if option in options:
            raise _usage(
                f"`{option}=` goes with exports you name; with `<table> at=` the bot picks the exports and the engine "
                "(shown before approval): name the exports to choose it."
            )
    if "into" in options:
        for option in ("key", "billing"):
            if option in options:
                raise _usage(f"`{option}=` only goes with `to=`: `into=` writes into a table that already exists.")
        rate = _rate(options["rate"]) if "rate" in options else None
        return AsOfRequest(
            _table(table, "the table", aliases),
            _time(options["at"]),
            into=_table(options["into"], "`into=`", aliases),
            rate=rate,
        )
    if "rate" in options:
        raise _usage("`rate=` only goes with `into=`: ImportTable and PITR restores use no write capacity.")
    return AsOfRequest(
        _table(table, "the table", aliases),
        _time(options["at"]),
        to=_table(options["to"], "`to=`", aliases),
        key=_key(options["key"]) if "key" in options else (),
        billing=_billing(options.get("billing")),
    )


def _is_export_text(word: str) -> bool:
    return word.startswith("s3://") or bool(EXPORT_ARN.match(word)) or bool(re.match(r"^\d{14}-[0-9a-f]{8}$", word))


def _check_export(word: str) -> None:
    if word.startswith("s3://"):
        try:
            parse_s3_export_url(word)
        except UsageError as exc:
            raise _usage(f"{exc.message} Write it as s3://<bucket>/<prefix>/AWSDynamoDB/<ExportId>/.") from None
        return
    if word.startswith("arn:"):
        if not LENIENT_EXPORT_ARN.match(word):
            raise _usage(f"`{word}` is not an export ARN (arn:aws:dynamodb:<region>:<account>:table/<t>/export/<id>).")
        return
    if not EXPORT_ID_TEXT.match(word):
        raise _usage(f"`{word}` is not an export id (e.g. 01768385930622-efd1a093), export ARN or S3 URL.")


def _owner(text: str | None, words: list[str]) -> str | None:
    """`owner=` names the account owning the bucket of the s3:// exports, so it needs one and must be an id."""
    if text is None:
        return None
    if not is_account_id(text):
        raise _usage(f"`owner={text}` must be the 12-digit id of the AWS account that owns the bucket.")
    if not any(word.startswith("s3://") for word in words):
        raise _usage(
            "`owner=` goes with an s3:// export: it names who owns that bucket. Exports named by id or ARN are "
            "read where the bot recorded them."
        )
    return text


def _table(text: str, what: str, aliases: Collection[str]) -> str:
    try:
        parse_table_ref(text, set(aliases))
    except UsageError as exc:
        raise _usage(f"{what}: {exc.message}") from None
    return text


def _key(text: str) -> tuple[tuple[str, str], ...]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    found: list[tuple[str, str]] = []
    for part in parts:
        match = KEY_PART.match(part)
        if match is None:
            found = []
            break
        found.append((match["name"], match["kind"].upper()))
    if not 1 <= len(found) <= 2 or len({name for name, _ in found}) != len(found):
        raise _usage(
            f"`key={text}` must be the partition key, then the sort key if there is one, as <attr>:<S|N|B>, "
            "e.g. `key=pk:S` or `key=pk:S,sk:N`."
        )
    return tuple(found)


def _billing(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = text.lower().replace("_", "-")
    cleaned = {"ondemand": "on-demand", "pay-per-request": "on-demand"}.get(cleaned, cleaned)
    if cleaned not in BILLING:
        raise _usage(f"`billing={text}` must be `billing=on-demand` (the default) or `billing=provisioned`.")
    return cleaned


def _rate(text: str) -> RateRequest:
    try:
        return parse_rate(text)
    except UsageError as exc:
        raise _usage(exc.message) from None


def _time(text: str) -> datetime:
    try:
        return parse_time(text, "at")
    except UsageError as exc:
        raise _usage(f"{exc.message} Or write `at=latest`.") from None


def _usage(message: str) -> UsageError:
    return UsageError(message, RESTORE_HELP.usage_text)
