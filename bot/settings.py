"""Typed settings read from the environment (and an optional .env); the only module that reads them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.aws.names import account_id_problem, bucket_problem, region_problem
from bot.db import url_problem
from bot.slack_ids import SlackIdKind, slack_id_problem

CommaList = Annotated[list[str], NoDecode]
# what bot.restores.rate.parse_rate accepts, with the same ranges (tests check that the two agree)
RATE_UNITS = re.compile(r"^(\d{1,9})\s*/\s*s(?:ec(?:ond)?)?$", re.IGNORECASE | re.ASCII)
RATE_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d{1,2})?)\s*%$", re.ASCII)
# A bot token, also when Slack's token rotation is on (`xoxe.xoxb-…`); an app-level token for Socket Mode.
BOT_TOKEN = re.compile(r"^(?:xoxe\.)?xoxb-[A-Za-z0-9-]+$")
APP_TOKEN = re.compile(r"^xapp-[A-Za-z0-9-]+$")


class SettingsError(Exception):
    """A missing or malformed setting, with a sentence naming the variable."""


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """Everything the bot is configured with. AWS comes from boto3's standard chain, not from here."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))
    port: int = Field(3000, ge=0, le=65535, validation_alias=_env("PORT"))

    database_url: str = Field("sqlite:///ddb-backup-bot.sqlite3", validation_alias=_env("DDBBOT_DATABASE_URL"))
    export_bucket: str | None = Field(None, validation_alias=_env("DDBBOT_EXPORT_BUCKET"))
    export_prefix: str = Field("dynamodb-exports", validation_alias=_env("DDBBOT_EXPORT_PREFIX"))
    export_bucket_owner: str | None = Field(None, validation_alias=_env("DDBBOT_EXPORT_BUCKET_OWNER"))
    notify_channel: str | None = Field(None, validation_alias=_env("DDBBOT_NOTIFY_CHANNEL"))
    approval_channel: str | None = Field(None, validation_alias=_env("DDBBOT_APPROVAL_CHANNEL"))
    approvers: CommaList = Field(default_factory=list, validation_alias=_env("DDBBOT_APPROVERS"))
    operators: CommaList = Field(default_factory=list, validation_alias=_env("DDBBOT_OPERATORS"))
    required_approvals: int = Field(1, ge=1, le=10, validation_alias=_env("DDBBOT_REQUIRED_APPROVALS"))
    approval_ttl_minutes: int = Field(60, ge=1, le=7 * 24 * 60, validation_alias=_env("DDBBOT_APPROVAL_TTL_MINUTES"))
    oncall: str | None = Field(None, validation_alias=_env("DDBBOT_ONCALL"))
    poll_seconds: float = Field(30.0, gt=0, le=3600, validation_alias=_env("DDBBOT_POLL_SECONDS"))
    lease_seconds: float = Field(30.0, gt=0, le=3600, validation_alias=_env("DDBBOT_LEASE_SECONDS"))
    # claimed background work (restores, verifications, drills, schedule fires, messages): how many times a piece
    # is taken (a crash, a restart, a failure each count one) before it is reported as given up, and how long a
    # holder may go without a heartbeat before its claim is taken over (unset: 10 polls, at least 6 seconds)
    work_max_attempts: int = Field(5, ge=1, le=100, validation_alias=_env("DDBBOT_WORK_MAX_ATTEMPTS"))
    work_stale_seconds: float | None = Field(None, ge=1, le=86400, validation_alias=_env("DDBBOT_WORK_STALE_SECONDS"))
    # how long a batch of the `into=` loader may make no progress (5xx, DNS, connection, throttling) before it stops
    loader_retry_seconds: float = Field(300.0, gt=0, le=86400, validation_alias=_env("DDBBOT_LOADER_RETRY_SECONDS"))
    exports_per_account: int = Field(300, ge=1, le=300, validation_alias=_env("DDBBOT_EXPORTS_PER_ACCOUNT"))
    drill_max_age_days: int = Field(30, ge=1, le=3650, validation_alias=_env("DDBBOT_DRILL_MAX_AGE_DAYS"))
    coverage_cache_seconds: float = Field(300.0, ge=0, le=86400, validation_alias=_env("DDBBOT_COVERAGE_CACHE_SECONDS"))
    # the `into=` loader's ceiling when `rate=` is not given: write units a second (`2000/s`) or a share of the
    # table's write capacity (`50%`); half, as the EMR connector's default, leaves the rest to the application
    restore_rate: str = Field("50%", validation_alias=_env("DDBBOT_RESTORE_RATE"))
    config_file: Path | None = Field(None, validation_alias=_env("DDBBOT_CONFIG_FILE"))
    restore_table_prefix: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.-]+$",
        validation_alias=_env("DDBBOT_RESTORE_TABLE_PREFIX"),
    )
    # restore drills: items sampled and compared attribute for attribute, and how many drills may run at once
    drill_sample: int = Field(1000, ge=1, le=100_000, validation_alias=_env("DDBBOT_DRILL_SAMPLE"))
    max_drills: int = Field(2, ge=1, le=50, validation_alias=_env("DDBBOT_MAX_DRILLS"))
    # /metrics, /readyz and /healthz, in both modes; never on PORT, which Slack (and whoever reaches it) talks to
    metrics_port: int = Field(9095, ge=0, le=65535, validation_alias=_env("DDBBOT_METRICS_PORT"))
    log_format: Literal["json", "text"] = Field("json", validation_alias=_env("DDBBOT_LOG_FORMAT"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", validation_alias=_env("DDBBOT_LOG_LEVEL"))
    # Read only so that the logs can mask them; boto3 reads its credentials itself.
    aws_secret_access_key: SecretStr | None = Field(None, validation_alias=_env("AWS_SECRET_ACCESS_KEY"))
    aws_session_token: SecretStr | None = Field(None, validation_alias=_env("AWS_SESSION_TOKEN"))
    # Read only to check them at start and to name the one that is wrong; boto3 reads them itself.
    aws_region: str | None = Field(None, validation_alias=_env("AWS_REGION"))
    aws_default_region: str | None = Field(None, validation_alias=_env("AWS_DEFAULT_REGION"))
    aws_profile: str | None = Field(None, validation_alias=_env("AWS_PROFILE"))
    aws_endpoint_url: str | None = Field(None, validation_alias=_env("AWS_ENDPOINT_URL"))

    @field_validator("approvers", "operators", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("approvers", "operators")
    @classmethod
    def _people(cls, value: list[str]) -> list[str]:
        _refuse(slack_id_problem(value, SlackIdKind.PERSON_OR_GROUP), "Separate several with commas.")
        return value

    @field_validator("oncall")
    @classmethod
    def _person_or_group(cls, value: str | None) -> str | None:
        if value is not None:
            _refuse(slack_id_problem([value.strip()], SlackIdKind.PERSON_OR_GROUP))
            return value.strip()
        return value

    @field_validator("notify_channel", "approval_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None:
            _refuse(slack_id_problem([value.strip()], SlackIdKind.CHANNEL))
            return value.strip()
        return value

    @field_validator("export_bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None:
            _refuse(bucket_problem(value))
        return value

    @field_validator("aws_region", "aws_default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value:
            _refuse(region_problem(value))
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        _refuse(url_problem(value))
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not BOT_TOKEN.match(value.get_secret_value()):
            _refuse(
                "it is not a bot token: copy the Bot User OAuth Token (it starts with xoxb-) from OAuth & Permissions."
            )
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not APP_TOKEN.match(value.get_secret_value()):
            _refuse(
                "it is not an app-level token: generate one (it starts with xapp-) with the connections:write scope "
                "under Basic Information → App-Level Tokens, or unset SLACK_APP_TOKEN for HTTP mode."
            )
        return value

    @field_validator("export_bucket_owner")
    @classmethod
    def _twelve_digits(cls, value: str | None) -> str | None:
        if value is not None:
            _refuse(account_id_problem(value))
        return value

    @field_validator("restore_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        """The same forms as `rate=`; the restores feature parses it (the kernel may not import features)."""
        units, percent = RATE_UNITS.match(value.strip()), RATE_PERCENT.match(value.strip())
        if not (units and 1 <= int(units[1]) <= 10_000_000) and not (percent and 0 < float(percent[1]) <= 100):
            _refuse(
                "must be write units a second from 1 to 10000000, like 2000/s, or a share of the table's write "
                "capacity above 0 up to 100, like 50%."
            )
        return value.strip()

    def secret_values(self) -> list[str]:
        """Every secret the bot was given, for the log filter to mask wherever it would appear."""
        held = (
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.aws_secret_access_key,
            self.aws_session_token,
        )
        return [secret.get_secret_value() for secret in held if secret is not None]

    @property
    def socket_mode(self) -> bool:
        """Socket Mode is chosen by the presence of an app-level token."""
        return self.slack_app_token is not None

    def require_slack(self) -> None:
        """Fail with a sentence naming what is missing for the chosen Slack mode."""
        missing = []
        if self.slack_bot_token is None:
            missing.append("SLACK_BOT_TOKEN (the xoxb- token from OAuth & Permissions)")
        if not self.socket_mode and self.slack_signing_secret is None:
            missing.append(
                "SLACK_SIGNING_SECRET (Basic Information → App Credentials), or set SLACK_APP_TOKEN for Socket Mode"
            )
        if missing:
            raise SettingsError("Missing setting: " + "; ".join(missing))


def _refuse(problem: str | None, *more: str) -> None:
    """Fail validation with exactly this sentence (pydantic would put "Value error, " before a ValueError's)."""
    if problem is not None:
        raise PydanticCustomError("setting", " ".join((problem, *more)))


def load_settings() -> Settings:
    """Read the settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = _variable_name(error.get("loc", ()))
            lines.append(f"{name}: {error.get('msg', 'invalid')}")
        raise SettingsError("Bad setting: " + "; ".join(lines)) from None


def _variable_name(loc: tuple[object, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    alias = Settings.model_fields.get(field)
    if alias is not None and isinstance(alias.validation_alias, AliasChoices):
        return str(alias.validation_alias.choices[0])
    return field
