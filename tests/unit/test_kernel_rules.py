"""Pure rules of the core: settings, config, table references, AWS error translation, times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from bot.aws.errors import translate
from bot.aws.tables import TableRef, parse_table_ref
from bot.config import ConfigError, load_config, parse_config
from bot.errors import AwsError, UsageError
from bot.settings import Settings, SettingsError, load_settings
from bot.timefmt import duration, iso, parse_time, size
from tests.support.hostile import MB, peak_memory


def client_error(code: str, message: str = "nope") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Op")


def test_settings_read_lists_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DDBBOT_OPERATORS", "U012ABCDEF, S012ABCDEF ,")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-not-a-real-token")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.operators == ["U012ABCDEF", "S012ABCDEF"]
    assert settings.poll_seconds == 30
    assert settings.export_prefix == "dynamodb-exports"
    assert settings.port == 3000
    assert "xoxb" not in repr(settings)  # secrets never show in logs


def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DDBBOT_POLL_SECONDS", "soon")
    with pytest.raises(SettingsError, match="DDBBOT_POLL_SECONDS"):
        load_settings()
    monkeypatch.delenv("DDBBOT_POLL_SECONDS")
    monkeypatch.setenv("DDBBOT_EXPORT_BUCKET_OWNER", "123")
    with pytest.raises(SettingsError, match="DDBBOT_EXPORT_BUCKET_OWNER"):
        load_settings()


def test_missing_slack_settings_are_named() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(SettingsError) as raised:
        settings.require_slack()
    assert "SLACK_BOT_TOKEN" in str(raised.value) and "SLACK_SIGNING_SECRET" in str(raised.value)


def test_config_accounts_tables_and_bad_role() -> None:
    config = parse_config(
        {
            "accounts": {"prod": {"role_arn": "arn:aws:iam::111111111111:role/ddb-backup-bot", "region": "eu-west-1"}},
            "tables": {"prod:orders": {"bucket": "acme-b", "prefix": "p"}},
        }
    )
    assert config.accounts["prod"].region == "eu-west-1"
    assert config.defaults_for("prod:orders").bucket == "acme-b"
    with pytest.raises(ConfigError, match=r"\[accounts.bad\] role_arn"):
        parse_config({"accounts": {"bad": {"role_arn": "nope"}}})


def test_an_accounts_regions_for_coverage_are_a_list_of_regions() -> None:
    role = "arn:aws:iam::111111111111:role/ddb-backup-bot"
    config = parse_config({"accounts": {"prod": {"role_arn": role, "regions": ["eu-west-1", "us-east-2"]}}})
    assert config.accounts["prod"].regions == ("eu-west-1", "us-east-2")
    for bad in ("eu-west-1", ["Ireland"], [1]):
        with pytest.raises(ConfigError, match=r"\[accounts.prod\] regions: "):
            parse_config({"accounts": {"prod": {"role_arn": role, "regions": bad}}})


def test_table_references() -> None:
    assert parse_table_ref("orders") == TableRef("orders")
    assert parse_table_ref("prod:orders", {"prod"}) == TableRef("orders", alias="prod")
    arn = parse_table_ref("arn:aws:dynamodb:eu-west-1:111111111111:table/orders")
    assert (arn.name, arn.region, arn.account_id) == ("orders", "eu-west-1", "111111111111")
    with pytest.raises(UsageError, match="3–255"):
        parse_table_ref("a/b")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("ResourceNotFoundException"), "was not found"),
        (client_error("AccessDeniedException"), "Grant `dynamodb:DescribeTable`"),
        (client_error("ExpiredTokenException"), "Renew the credentials"),
        (client_error("ThrottlingException"), "Try again in a few minutes"),
        (client_error("ValidationException", "weird"), "weird"),
        (EndpointConnectionError(endpoint_url="https://x"), "Could not reach AWS"),
    ],
)
def test_aws_errors_become_what_to_fix(error: Exception, expected: str) -> None:
    translated = translate(error, "dynamodb:DescribeTable", "Table `orders`")
    assert isinstance(translated, AwsError)
    assert expected in str(translated)


def test_times_and_sizes_read_well() -> None:
    assert parse_time("2026-01-14T10:18:50Z", "at") == datetime(2026, 1, 14, 10, 18, 50, tzinfo=UTC)
    assert iso(datetime(2026, 1, 14, 10, 18, 50, tzinfo=UTC)) == "2026-01-14T10:18:50Z"
    assert duration(368) == "6m 08s" and duration(7380) == "2h 03m" and duration(None) == "—"
    assert size(0) == "0 B" and size(1536) == "1.5 KiB"


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("-90m", timedelta(minutes=90)),
        ("-2h", timedelta(hours=2)),
        ("-1d", timedelta(days=1)),
        ("-1h30m", timedelta(hours=1, minutes=30)),
        ("-1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" -45S ", timedelta(seconds=45)),
    ],
)
def test_a_time_relative_to_now_counts_back_from_now(text: str, ago: timedelta) -> None:
    now = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
    assert parse_time(text, "at", now) == now - ago


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-", "is not a time relative to now"),
        ("-2", "is not a time relative to now"),
        ("-30m2h", "largest first"),
        ("-2hours", "is not a time relative to now"),
        ("+2h", "is not a time"),
        ("-99999d", "is not a time relative to now"),
        ("-4000d", "more than ten years back"),
        ("yesterday", "relative to now, like `at=-90m`"),
    ],
)
def test_a_bad_relative_time_says_how_to_write_one(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_time(text, "at")


def test_a_config_file_larger_than_any_config_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with path.open("wb") as file:
        file.truncate(100 * MB)  # a wrong path (a disk image, a log): 100 MB, sparse
    with peak_memory() as peak, pytest.raises(ConfigError, match=r"config.toml is larger than 1 MiB, more than any"):
        load_config(path)
    assert peak.mb < 5, f"{peak.mb:.0f} MB allocated to refuse a 100 MB config file"


def test_a_config_file_that_is_not_utf8_is_refused_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[digest]\ncron = '\xff'\n")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_config(path)


def test_the_shipped_example_config_file_is_valid() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "deploy" / "config.example.toml")
    assert config.accounts and config.schedules, "the example shows accounts and schedules"
