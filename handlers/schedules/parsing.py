"""`/ddb-schedule` text → typed requests; its usage lives here and feeds both `help` and every parse error."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.aws.tables import parse_table_ref
from bot.errors import UsageError
from bot.schedules.models import ScheduleType, schedule_type
from bot.schedules.ports import CRON_HELP, CronCalendar
from bot.schedules.selection import parse_selector
from bot.schedules.service import DRILL_OPTION_KEYS, OPTION_KEYS, SCHEDULE_ID, NewSchedule, check_options
from bot.words import nearest
from handlers.kit.parsing import CommandHelp, HelpRequest, split_options, tokenize, wants_help, yes_or_no

COMMAND = "/ddb-schedule"
HELP = CommandHelp(
    COMMAND,
    "Scheduled exports, reported to a channel: add, list, remove, pause, resume, run now (changes: operators).",
    (
        f'{COMMAND} add <table>|<alias>:*|[<alias>:]tag:<key>=<value> cron="<minute hour day month weekday>" '
        "[tz=<IANA zone>] [type=full|incremental|drill] [rto=<duration, drills>] [from=export|pitr, drills] "
        "[random=<duration, PITR drills: a moment drawn within it>] "
        "[bucket=<name>] [prefix=<p>] [owner=<12-digit account id>] [format=dynamodb_json|ion] "
        "[kms=<KMS key ARN or alias/name>] [channel=<#channel>] [confirm=true]",
        f"{COMMAND} list",
        f"{COMMAND} remove|pause|resume|run <schedule id>",
    ),
    (
        f'{COMMAND} add orders cron="0 2 * * *" tz=Europe/Paris',
        f'{COMMAND} add prod:orders cron="0 * * * *" type=incremental channel=#backups',
        f'{COMMAND} add prod:* cron="0 3 * * *"',
        f'{COMMAND} add tag:backup=daily cron="0 4 * * *"',
        f'{COMMAND} add orders cron="0 6 * * 1" type=drill rto=1h',
        f'{COMMAND} add orders cron="0 6 * * 1" type=drill from=pitr random=7d',
        f"{COMMAND} list",
        f"{COMMAND} run orders-3fa2",
    ),
)
ADD_OPTIONS = (
    *("cron", "tz", "type", "bucket", "prefix", "owner", "format", "kms", "channel", "rto", "from", "random"),
    "confirm",
)
ACTIONS = ("remove", "pause", "resume", "run")
OPTION_KEY = re.compile(r"[A-Za-z_]+")
CHANNEL_LINK = re.compile(r"^<#(?P<id>[CG][A-Z0-9]{2,})(?:\|[^>]*)?>$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
CHANNEL_NAME = re.compile(r"^#[a-z0-9][a-z0-9_-]{0,79}$")


@dataclass(frozen=True)
class ScheduleAdd:
    """`add`: a new schedule; `confirmed` (`confirm=true`) adds a costly one without asking first."""

    request: NewSchedule
    confirmed: bool = False


@dataclass(frozen=True)
class ScheduleList:
    """`list`."""


@dataclass(frozen=True)
class ScheduleAction:
    """`remove`, `pause`, `resume` or `run` one schedule."""

    action: str
    schedule_id: str


ScheduleCommand = ScheduleAdd | ScheduleList | ScheduleAction | HelpRequest


def parse_schedule(text: str, calendar: CronCalendar, aliases: Collection[str] = ()) -> ScheduleCommand:
    """Parse /ddb-schedule."""
    tokens = tokenize(text, HELP, curly_single_quotes=True)
    if not tokens or wants_help(tokens):
        return HelpRequest(HELP)
    verb, rest = tokens[0].lower(), tokens[1:]
    if verb == "list":
        _no_more(rest)
        return ScheduleList()
    if verb in ACTIONS:
        if not rest:
            raise _usage(f"`{verb}` needs a schedule id; see them with `{COMMAND} list`.")
        _no_more(rest[1:])
        if not SCHEDULE_ID.match(rest[0]):
            raise _usage(f"`{rest[0]}` is not a schedule id; ids look like `orders-3fa2` (see `{COMMAND} list`).")
        return ScheduleAction(verb, rest[0])
    if verb == "add":
        return _add(rest, calendar, aliases)
    guess = nearest(verb, ("add", "list", *ACTIONS))
    hint = f" Did you mean `{guess}`?" if guess else ""
    raise _usage(f"`{tokens[0]}` is not something {COMMAND} does.{hint} Use add, list, remove, pause, resume or run.")


def _add(tokens: list[str], calendar: CronCalendar, aliases: Collection[str]) -> ScheduleAdd:
    words, options = split_options(
        tokens, ADD_OPTIONS, HELP, key_pattern=OPTION_KEY, strip_values=True, subject="`add`"
    )
    if not words:
        raise _usage(
            "Name a table: `orders`, `<account alias>:orders` or the table's ARN; or many: `prod:*`, "
            "`tag:backup=daily`."
        )
    if "cron" not in options:
        raise _usage(f'`add` needs `cron="..."`. {CRON_HELP}')
    if len(words) > 1:
        extra = " ".join(words[1:])
        hint = ' Put the cron expression in quotes: cron="0 2 * * *".' if len(options["cron"].split()) < 5 else ""
        raise _usage(f"I don't understand `{extra}`.{hint}")
    table = words[0]
    try:
        if parse_selector(table, aliases) is None:
            parse_table_ref(table, set(aliases))
        timezone = options.get("tz", "UTC")
        cron = " ".join(options["cron"].split())
        calendar.check(cron, timezone)
        export_type = schedule_type(options.get("type", ScheduleType.FULL))
        raw: dict[str, str] = {k: v for k, v in options.items() if k in OPTION_KEYS + DRILL_OPTION_KEYS}
        check_options(export_type, raw)
        channel = _channel(options["channel"]) if "channel" in options else None
    except UsageError as error:
        raise _usage(error.message) from None
    confirmed = yes_or_no(options.get("confirm", "false"), "confirm", HELP)
    return ScheduleAdd(NewSchedule(table, cron, timezone, export_type, raw, channel), confirmed)


def _channel(text: str) -> str:
    link = CHANNEL_LINK.match(text)
    if link:
        return link["id"]
    if CHANNEL_ID.match(text) or CHANNEL_NAME.match(text):
        return text
    raise UsageError(f"`channel={text}` is not a channel: write `channel=#backups` or the channel's id `C0123ABCD`.")


def _no_more(tokens: list[str]) -> None:
    if tokens:
        raise _usage(f"I don't understand `{' '.join(tokens)}`.")


def _usage(message: str) -> UsageError:
    return UsageError(message, HELP.usage_text)
