"""The optional TOML file: AWS account aliases, per-table export defaults, schedules and the digest.

The file is read through pydantic models that forbid unknown keys: a misspelt section (`[acounts.prod]`) or key
(`externl_id`) stops the start with a line naming it, where it used to be dropped without a word. What the rest of
the bot reads are the plain frozen dataclasses below, built from the validated models.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from bot.aws.names import account_id_problem, bucket_problem, kms_key_problem, region_problem
from bot.bounded import TooLarge, read_at_most
from bot.errors import BotError
from bot.limits import MAX_CONFIG_FILE
from bot.slack_ids import SlackIdKind, slack_id_problem
from bot.timefmt import parse_ago

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
ALIAS = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")  # sts:AssumeRole's ExternalId
FORMATS = ("dynamodb_json", "ion")
KEEP = re.compile(r"^([0-9]{1,5})d$")
MAX_KEEP_DAYS = 36_500  # S3 lifecycle Days is any positive integer; a century is past any retention asked
MAX_FULLS = 1_000
KEEP_FORM = "a number of days followed by d, e.g. 35d"


class ConfigError(BotError):
    """The TOML config file is malformed; the message names the key."""


@dataclass(frozen=True)
class Account:
    """An AWS account reachable by assuming a role."""

    alias: str
    role_arn: str
    region: str | None = None
    external_id: str | None = None
    regions: tuple[str, ...] = ()  # where `/ddb-coverage` looks for tables (default: `region`)


@dataclass(frozen=True)
class TableDefaults:
    """Export options applied to one table when the command does not give them."""

    bucket: str | None = None
    prefix: str | None = None
    owner: str | None = None
    export_format: str | None = None
    kms_key: str | None = None
    keep_days: int | None = None  # /ddb-retention: how long exports are kept
    fulls: int | None = None  # /ddb-retention: how many full exports are kept at least


def keep_problem(text: str) -> str | None:
    """Why `text` is not a retention (`35d`: 1 to 36,500 days), or None; one rule for the command and the file."""
    found = KEEP.match(text)
    if found is None:
        return f"must be {KEEP_FORM}."
    if not 1 <= int(found.group(1)) <= MAX_KEEP_DAYS:
        return f"must be between 1d and {MAX_KEEP_DAYS}d."
    return None


def keep_days(text: str) -> int:
    """`35d` → 35; the caller checked it with keep_problem."""
    return int(text.removesuffix("d"))


@dataclass(frozen=True)
class ControlTargets:
    """What an auditor checks of one table (`[controls]`, then `[tables."<table>"]`); None or False: not required."""

    backup_every: timedelta | None = None  # a completed export at least this recent
    retention: timedelta | None = None  # the backup bucket keeps exports at least this long
    immutable: bool = False  # the backup bucket locks its objects (S3 Object Lock)
    cross_account: bool = False  # an export lies in a bucket another account owns
    restore_proven: timedelta | None = None  # a passed restore drill at least this recent
    rto: timedelta | None = None  # that drill restored the table within this long

    @property
    def any(self) -> bool:
        """Whether any control is required at all (none: nothing to read for the table)."""
        return any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule declared in the config file (synced into the store at start)."""

    key: str
    table: str
    cron: str
    timezone: str = "UTC"
    export_type: str = "full"
    options: dict[str, str] = field(default_factory=dict)
    channel: str | None = None
    expected_hours: float | None = None


@dataclass(frozen=True)
class BotConfig:
    """The parsed config file; empty when there is none."""

    accounts: dict[str, Account] = field(default_factory=dict)
    tables: dict[str, TableDefaults] = field(default_factory=dict)
    schedules: tuple[ScheduleSpec, ...] = ()
    digest_cron: str = "0 9 * * *"
    digest_timezone: str = "UTC"
    controls: ControlTargets = field(default_factory=ControlTargets)  # `[controls]`: every table's targets
    table_controls: dict[str, ControlTargets] = field(default_factory=dict)  # `[tables."<table>"]`'s, merged over

    def defaults_for(self, table_key: str) -> TableDefaults:
        """Defaults for `alias:name` or a bare name."""
        return self.tables.get(table_key, TableDefaults())

    def targets_for(self, table_key: str) -> ControlTargets:
        """The control targets of `alias:name` (or a bare name): its own, else `[controls]`'s."""
        return self.table_controls.get(table_key, self.controls)


# ------------------------------------------------------------------------------------- the file, as written


def _checked(problem_of: Callable[[str], str | None]) -> AfterValidator:
    """A pydantic validator that refuses a value with the sentence its rule gives (no "Value error, " before it)."""

    def check(value: str) -> str:
        problem = problem_of(value)
        if problem is not None:
            raise PydanticCustomError("config", problem)
        return value

    return AfterValidator(check)


def _alias_problem(alias: str) -> str | None:
    if ALIAS.match(alias):
        return None
    return f"`{alias[:80]}` is not an account alias: use lowercase letters, digits, '-' or '_', e.g. [accounts.prod]."


def _role_problem(arn: str) -> str | None:
    if ROLE_ARN.match(arn):
        return None
    return 'must look like role_arn = "arn:aws:iam::123456789012:role/ddb-backup-bot".'


def _external_id_problem(value: str) -> str | None:
    if EXTERNAL_ID.match(value):
        return None
    return "must be 2–1224 letters, digits or +=,.@:/-_, the same string as the role's trust policy condition."


def _format_problem(value: str) -> str | None:
    return None if value.lower() in FORMATS else 'must be "dynamodb_json" (the default) or "ion".'


def _keep_problem(value: str) -> str | None:
    problem = keep_problem(value)
    return f'{problem.removesuffix(".")} (keep = "35d").' if problem else None


def _channel_problem(value: str) -> str | None:
    return slack_id_problem([value], SlackIdKind.CHANNEL)


def _span_problem(value: str) -> str | None:
    if value == OFF:
        return None
    try:
        parse_ago(f"-{value}", "span")
    except BotError:
        return f'must be a span like "24h", "35d" or "1d12h" (days, hours, minutes), or "{OFF}"; not "{value[:40]}".'
    return None


def _span(value: str | None) -> timedelta | None:
    """A checked span as a timedelta; None when not given or "off"."""
    return None if value is None or value == OFF else parse_ago(f"-{value}", "span")


Alias = Annotated[str, _checked(_alias_problem)]
Region = Annotated[str, _checked(region_problem)]
Bucket = Annotated[str, _checked(bucket_problem)]
Owner = Annotated[str, _checked(account_id_problem)]
ExportFormatName = Annotated[str, _checked(_format_problem)]
KmsKey = Annotated[str, _checked(kms_key_problem)]
Span = Annotated[str, _checked(_span_problem)]
OFF = "off"
Keep = Annotated[str, _checked(_keep_problem)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AccountEntry(_Section):
    """`[accounts.<alias>]`."""

    role_arn: Annotated[str, _checked(_role_problem)]
    region: Region | None = None
    external_id: Annotated[str, _checked(_external_id_problem)] | None = None
    regions: list[Region] = Field(default_factory=list)


class ControlsEntry(_Section):
    """`[controls]`: the targets of every table (a table's own entry overrides them key by key)."""

    backup_every: Span | None = None
    retention: Span | None = None
    immutable: bool | None = None
    cross_account: bool | None = None
    restore_proven: Span | None = None
    rto: Span | None = None

    def over(self, base: ControlTargets) -> ControlTargets:
        """These targets laid over `base`: a key given here wins ("off" or false: not required)."""
        return replace(
            base,
            backup_every=_span(self.backup_every) if self.backup_every else base.backup_every,
            retention=_span(self.retention) if self.retention else base.retention,
            immutable=base.immutable if self.immutable is None else self.immutable,
            cross_account=base.cross_account if self.cross_account is None else self.cross_account,
            restore_proven=_span(self.restore_proven) if self.restore_proven else base.restore_proven,
            rto=_span(self.rto) if self.rto else base.rto,
        )


class TableEntry(ControlsEntry):
    """`[tables."<table>"]`: export options and control targets."""

    bucket: Bucket | None = None
    prefix: str | None = None
    owner: Owner | None = None
    format: ExportFormatName | None = None
    kms: KmsKey | None = None
    keep: Keep | None = None
    fulls: int | None = Field(None, ge=1, le=MAX_FULLS)

    def sets_controls(self) -> bool:
        """Whether the entry gives any control target of its own."""
        return any(getattr(self, name) is not None for name in ControlsEntry.model_fields)


class DigestEntry(_Section):
    """`[digest]`."""

    cron: str = "0 9 * * *"
    timezone: str = "UTC"


class ScheduleEntry(_Section):
    """One `[[schedules]]` entry; cron, zone, table and the options' meaning are checked with the schedule."""

    id: str | None = None
    table: str
    cron: str
    tz: str = "UTC"
    type: str = "full"
    channel: Annotated[str, _checked(_channel_problem)] | None = None
    expected_hours: float | None = Field(None, gt=0, strict=False)
    bucket: Bucket | None = None
    prefix: str | None = None
    owner: Owner | None = None
    format: ExportFormatName | None = None
    kms: KmsKey | None = None
    rto: str | None = None

    def options(self) -> dict[str, str]:
        """The export (or drill) options given, as a schedule added from Slack holds them."""
        given = {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "owner": self.owner,
            "format": self.format,
            "kms": self.kms,
            "rto": self.rto,
        }
        return {name: value for name, value in given.items() if value is not None}


class ConfigFile(_Section):
    """The whole file."""

    accounts: dict[Alias, AccountEntry] = Field(default_factory=dict)
    tables: dict[str, TableEntry] = Field(default_factory=dict)
    digest: DigestEntry = Field(default_factory=DigestEntry)
    schedules: list[ScheduleEntry] = Field(default_factory=list)
    controls: ControlsEntry = Field(default_factory=ControlsEntry)


# ------------------------------------------------------------------------------------------------ reading


def load_config(path: Path | None) -> BotConfig:
    """Parse the config file, or return an empty config when no path is set; errors name DDBBOT_CONFIG_FILE."""
    if path is None:
        return BotConfig()
    where = f"DDBBOT_CONFIG_FILE {path}"
    try:
        with path.open("rb") as file:
            data = read_at_most(file, MAX_CONFIG_FILE, where, "more than any config takes")
        raw = tomllib.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where} does not exist; point DDBBOT_CONFIG_FILE at the file, or unset it.") from None
    except TooLarge as exc:
        raise ConfigError(f"{exc.message} Is the path right?") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text (TOML files are).") from None
    except OSError as exc:
        raise ConfigError(f"{where} cannot be read ({exc.strerror or type(exc).__name__}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}; see deploy/config.example.toml.") from None
    try:
        return parse_config(raw)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error.message}") from None


def parse_config(raw: dict[str, Any]) -> BotConfig:
    """Build a BotConfig from parsed TOML, naming the first bad key and how to write it."""
    try:
        parsed = ConfigFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0])) from None
    controls = parsed.controls.over(ControlTargets())
    return BotConfig(
        accounts={
            alias: Account(alias, entry.role_arn, entry.region, entry.external_id, tuple(entry.regions))
            for alias, entry in parsed.accounts.items()
        },
        tables={
            name: TableDefaults(
                entry.bucket,
                entry.prefix,
                entry.owner,
                entry.format,
                entry.kms,
                keep_days(entry.keep) if entry.keep else None,
                entry.fulls,
            )
            for name, entry in parsed.tables.items()
        },
        schedules=tuple(
            ScheduleSpec(
                key=entry.id if entry.id is not None else f"config-{index + 1}",
                table=entry.table,
                cron=entry.cron,
                timezone=entry.tz,
                export_type=entry.type,
                options=entry.options(),
                channel=entry.channel,
                expected_hours=entry.expected_hours,
            )
            for index, entry in enumerate(parsed.schedules)
        ),
        digest_cron=parsed.digest.cron,
        digest_timezone=parsed.digest.timezone,
        controls=controls,
        table_controls={name: entry.over(controls) for name, entry in parsed.tables.items() if entry.sets_controls()},
    )


KEYS_OF: dict[str, type[BaseModel]] = {
    "accounts": AccountEntry,
    "tables": TableEntry,
    "digest": DigestEntry,
    "schedules": ScheduleEntry,
    "controls": ControlsEntry,
}
SECTION_NAMES = '[accounts.<alias>], [tables."<table>"], [digest], [[schedules]] and [controls]'
EXAMPLE = "see deploy/config.example.toml"


def _describe(error: ErrorDetails) -> str:
    """One sentence for pydantic's first complaint: where in the file (as TOML names it), what, and how to write it."""
    loc = error["loc"]
    section = str(loc[0])
    if error["type"] == "extra_forbidden" and len(loc) == 1:
        hint = _did_you_mean(section, KEYS_OF)
        return f"[{section}] is not a section of the config file{hint}; the sections are {SECTION_NAMES}."
    place, key = _place(loc), _key(loc)
    if error["type"] == "extra_forbidden":
        known = tuple(KEYS_OF[section].model_fields)
        return f"{place} has no key `{key}`{_did_you_mean(str(key), known)}; its keys are {', '.join(known)}."
    if error["type"] == "missing":
        return f"{place} needs `{key}`; {EXAMPLE}."
    named = f" {key}" if key is not None else ""
    said = error["msg"].removesuffix(".")
    return f"{place}{named}: {said}." if error["type"] == "config" else f"{place}{named}: {said}; {EXAMPLE}."


def _place(loc: tuple[int | str, ...]) -> str:
    """`[accounts.prod]`, `[tables."prod:orders"]`, `[[schedules]] entry 2`, `[digest]`, from pydantic's loc."""
    section = str(loc[0])
    if section == "schedules" and len(loc) > 1 and isinstance(loc[1], int):
        return f"[[schedules]] entry {loc[1] + 1}"
    if section == "accounts" and len(loc) > 1:
        return f"[accounts.{loc[1]}]"
    if section == "tables" and len(loc) > 1:
        return f'[tables."{loc[1]}"]'
    return f"[{section}]"


def _key(loc: tuple[int | str, ...]) -> str | None:
    """The key inside the entry the error is about; None when it is about the entry (or its alias) itself."""
    depth = 1 if loc[0] in ("digest", "controls") else 2
    if len(loc) <= depth or loc[depth] == "[key]":
        return None
    return str(loc[depth])


def _did_you_mean(word: str, known: Any) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""
