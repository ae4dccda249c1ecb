"""The optional TOML file: AWS account aliases, per-table export defaults, schedules and the digest."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.bounded import TooLarge, read_at_most
from bot.errors import BotError
from bot.limits import MAX_CONFIG_FILE

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
ALIAS = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


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

    def defaults_for(self, table_key: str) -> TableDefaults:
        """Defaults for `alias:name` or a bare name."""
        return self.tables.get(table_key, TableDefaults())


def load_config(path: Path | None) -> BotConfig:
    """Parse the config file, or return an empty config when no path is set."""
    if path is None:
        return BotConfig()
    try:
        with path.open("rb") as file:
            data = read_at_most(file, MAX_CONFIG_FILE, f"DDBBOT_CONFIG_FILE {path}", "more than any config takes")
        raw = tomllib.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"DDBBOT_CONFIG_FILE points to {path}, which does not exist.") from None
    except TooLarge as exc:
        raise ConfigError(f"{exc.message} Is the path right?") from None
    except UnicodeDecodeError:
        raise ConfigError(f"DDBBOT_CONFIG_FILE {path} is not UTF-8 text (TOML files are).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"DDBBOT_CONFIG_FILE {path} is not valid TOML: {exc}") from None
    return parse_config(raw)


def parse_config(raw: dict[str, Any]) -> BotConfig:
    """Build a BotConfig from parsed TOML, naming the first bad key."""
    accounts = {alias: _account(alias, body) for alias, body in _table(raw, "accounts").items()}
    tables = {name: _defaults(name, body) for name, body in _table(raw, "tables").items()}
    schedules = tuple(_schedule(i, body) for i, body in enumerate(raw.get("schedules", [])))
    digest = _table(raw, "digest")
    return BotConfig(
        accounts=accounts,
        tables=tables,
        schedules=schedules,
        digest_cron=str(digest.get("cron", "0 9 * * *")),
        digest_timezone=str(digest.get("timezone", "UTC")),
    )


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"Config key [{key}] must be a table, e.g. [{key}.name].")
    return value


REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def _account(alias: str, body: Any) -> Account:
    if not ALIAS.match(alias):
        raise ConfigError(f"Account alias {alias!r}: use lowercase letters, digits, '-' or '_'.")
    role_arn = str(body.get("role_arn", "")) if isinstance(body, dict) else ""
    if not ROLE_ARN.match(role_arn):
        raise ConfigError(f"[accounts.{alias}] role_arn must look like arn:aws:iam::123456789012:role/ddb-backup-bot.")
    regions = body.get("regions", [])
    if not isinstance(regions, list) or not all(isinstance(r, str) and REGION.match(r) for r in regions):
        raise ConfigError(f'[accounts.{alias}] regions must be a list of regions, e.g. regions = ["eu-west-1"].')
    return Account(alias, role_arn, body.get("region"), body.get("external_id"), tuple(regions))


def _defaults(name: str, body: Any) -> TableDefaults:
    if not isinstance(body, dict):
        raise ConfigError(f"[tables.{name!r}] must be a table of bucket/prefix/owner/format.")
    return TableDefaults(body.get("bucket"), body.get("prefix"), body.get("owner"), body.get("format"))


def _schedule(index: int, body: Any) -> ScheduleSpec:
    if not isinstance(body, dict) or "table" not in body or "cron" not in body:
        raise ConfigError(f"[[schedules]] entry {index + 1} needs at least table = ... and cron = ...")
    known = {"id", "table", "cron", "tz", "type", "channel", "expected_hours"}
    options = {k: str(v) for k, v in body.items() if k not in known}
    return ScheduleSpec(
        key=str(body.get("id", f"config-{index + 1}")),
        table=str(body["table"]),
        cron=str(body["cron"]),
        timezone=str(body.get("tz", "UTC")),
        export_type=str(body.get("type", "full")),
        options=options,
        channel=body.get("channel"),
        expected_hours=body.get("expected_hours"),
    )
