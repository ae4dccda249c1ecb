"""The TOML config file is read through models that forbid unknown keys: each mistake is one sentence naming the
section and key as TOML writes them, and what a correct file holds reaches the rest of the bot unchanged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.config import KEYS_OF, ConfigError, TableDefaults, load_config, parse_config

ROLE = "arn:aws:iam::111111111111:role/ddb-backup-bot"
SCHEDULE = {"table": "orders", "cron": "0 2 * * *"}


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ({"acounts": {"prod": {"role_arn": ROLE}}}, "[acounts] is not a section of the config file (did you mean "),
        ({"schedule": [SCHEDULE]}, "[schedule] is not a section of the config file (did you mean `schedules`?)"),
        ({"accounts": {"prod": {"role_arn": ROLE, "externl_id": "x1"}}}, "[accounts.prod] has no key `externl_id`"),
        ({"accounts": {"prod": {"role_arn": ROLE, "profile": "x"}}}, "its keys are role_arn, region, external_id"),
        ({"tables": {"prod:orders": {"buckt": "acme-b"}}}, '[tables."prod:orders"] has no key `buckt` (did you mean'),
        ({"schedules": [SCHEDULE, {**SCHEDULE, "chanel": "C0OPS"}]}, "[[schedules]] entry 2 has no key `chanel`"),
        ({"digest": {"time": "09:00"}}, "[digest] has no key `time`"),
        ({"accounts": {"prod": {}}}, "[accounts.prod] needs `role_arn`"),
        ({"schedules": [{"table": "orders"}]}, "[[schedules]] entry 1 needs `cron`"),
        ({"accounts": {"Prod": {"role_arn": ROLE}}}, "[accounts.Prod]: `Prod` is not an account alias"),
        ({"accounts": {"prod": {"role_arn": "nope"}}}, "[accounts.prod] role_arn: must look like role_arn = "),
        ({"accounts": {"prod": {"role_arn": ROLE, "region": "mars-1"}}}, "[accounts.prod] region: `mars-1` is not"),
        ({"accounts": {"prod": {"role_arn": ROLE, "regions": ["eu-west-1", "x"]}}}, "[accounts.prod] regions: `x`"),
        ({"accounts": {"prod": {"role_arn": ROLE, "external_id": "a"}}}, "[accounts.prod] external_id: must be 2–1224"),
        ({"tables": {"orders": {"bucket": "Bad_Bucket"}}}, '[tables."orders"] bucket: `Bad_Bucket` is not a valid S3'),
        ({"tables": {"orders": {"owner": "12345"}}}, '[tables."orders"] owner: `12345` is not an AWS account id'),
        ({"tables": {"orders": {"format": "csv"}}}, '[tables."orders"] format: must be "dynamodb_json"'),
        ({"tables": {"orders": {"kms": "1234abcd"}}}, '[tables."orders"] kms: `kms=1234abcd` is not a KMS key'),
        ({"schedules": [{**SCHEDULE, "kms": "alias/"}]}, "[[schedules]] entry 1 kms: `kms=alias/` is not a KMS key"),
        ({"schedules": [{**SCHEDULE, "channel": "#ops"}]}, "[[schedules]] entry 1 channel: `#ops` is not a Slack"),
        ({"schedules": [{**SCHEDULE, "expected_hours": -1}]}, "[[schedules]] entry 1 expected_hours: Input should be"),
        ({"schedules": [{**SCHEDULE, "bucket": 7}]}, "[[schedules]] entry 1 bucket: Input should be a valid string"),
        ({"accounts": ["prod"]}, "[accounts]: Input should be a valid dictionary"),
        ({"tables": {"orders": {"keep": "35"}}}, '[tables."orders"] keep: must be a number of days followed by d'),
        (
            {"tables": {"orders": {"keep": "0d"}}},
            '[tables."orders"] keep: must be between 1d and 36500d (keep = "35d")',
        ),
        ({"tables": {"orders": {"keep": 35}}}, '[tables."orders"] keep: Input should be a valid string'),
        ({"tables": {"orders": {"fulls": 0}}}, '[tables."orders"] fulls: Input should be greater than or equal to 1'),
    ],
)
def test_each_mistake_is_one_sentence_naming_where_it_is(raw: dict[str, Any], said: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    assert said in raised.value.message and "\n" not in raised.value.message


@given(section=st.sampled_from(list(KEYS_OF)), key=st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True))
def test_no_unknown_key_is_ever_dropped_without_a_word(section: str, key: str) -> None:
    assume(key not in KEYS_OF[section].model_fields)
    valid = {"accounts": {"role_arn": ROLE}, "tables": {}, "digest": {}, "schedules": SCHEDULE, "controls": {}}[section]
    entry = {**valid, key: "x"}
    placed = {
        "accounts": {"prod": entry},
        "tables": {"orders": entry},
        "digest": entry,
        "schedules": [entry],
        "controls": entry,
    }
    with pytest.raises(ConfigError, match=f"has no key `{key}`"):
        parse_config({section: placed[section]})


def test_a_correct_file_reaches_the_bot_as_written(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text(
        f'[accounts.prod]\nrole_arn = "{ROLE}"\nregion = "eu-west-1"\nexternal_id = "s3cr3t-ext"\n'
        'regions = ["eu-west-1", "us-east-1"]\n'
        '[tables."prod:orders"]\nbucket = "acme-ddb-backups"\nowner = "333333333333"\nformat = "ion"\n'
        'kms = "alias/backups"\n[digest]\ncron = "0 8 * * 1"\n'
        '[[schedules]]\nid = "nightly"\ntable = "prod:orders"\ncron = "0 2 * * *"\ntz = "Europe/Berlin"\n'
        'channel = "C0123456789"\nexpected_hours = 2\nbucket = "acme-ddb-backups"\nprefix = "nightly"\n'
        'kms = "arn:aws:kms:eu-west-1:111111111111:alias/backups"\n[[schedules]]\ntable = "orders"\ncron = "0 3 * * 0"\ntype = "drill"\nrto = "2h"\n'
    )
    config = load_config(path)
    prod = config.accounts["prod"]
    assert (prod.role_arn, prod.region, prod.external_id, prod.regions) == (
        ROLE,
        "eu-west-1",
        "s3cr3t-ext",
        ("eu-west-1", "us-east-1"),
    )
    assert config.defaults_for("prod:orders").export_format == "ion"
    assert config.defaults_for("prod:orders").kms_key == "alias/backups"
    assert (config.digest_cron, config.digest_timezone) == ("0 8 * * 1", "UTC")
    nightly, drill = config.schedules
    assert (nightly.key, nightly.timezone, nightly.channel, nightly.expected_hours) == (
        "nightly",
        "Europe/Berlin",
        "C0123456789",
        2.0,
    )
    assert nightly.options == {
        "bucket": "acme-ddb-backups",
        "prefix": "nightly",
        "kms": "arn:aws:kms:eu-west-1:111111111111:alias/backups",
    }
    assert (drill.key, drill.export_type, drill.options) == ("config-2", "drill", {"rto": "2h"})


def test_file_problems_name_the_setting_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=f"DDBBOT_CONFIG_FILE {missing} does not exist"):
        load_config(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[accounts.prod\n")
    with pytest.raises(ConfigError, match=f"DDBBOT_CONFIG_FILE {broken} is not valid TOML"):
        load_config(broken)
    misspelt = tmp_path / "misspelt.toml"
    misspelt.write_text(f'[acounts.prod]\nrole_arn = "{ROLE}"\n')
    with pytest.raises(ConfigError, match=rf"DDBBOT_CONFIG_FILE {misspelt}: \[acounts\] is not a section"):
        load_config(misspelt)


def test_control_targets_of_a_table_lay_its_own_keys_over_the_controls_section() -> None:
    config = parse_config(
        {
            "controls": {"backup_every": "24h", "retention": "35d", "immutable": True},
            "tables": {
                "prod:orders": {"backup_every": "1h", "immutable": False, "rto": "1h30m"},
                "b": {"bucket": "x-y"},
            },
        }
    )
    orders = config.targets_for("prod:orders")
    assert (orders.backup_every, orders.retention, orders.immutable) == (timedelta(hours=1), timedelta(days=35), False)
    assert orders.rto == timedelta(minutes=90) and orders.cross_account is False and orders.restore_proven is None
    assert config.targets_for("b") == config.targets_for("anything") == config.controls
    assert config.controls.backup_every == timedelta(days=1) and config.controls.any


def test_a_control_switched_off_for_one_table_is_not_required_there() -> None:
    config = parse_config({"controls": {"retention": "35d"}, "tables": {"scratch": {"retention": "off"}}})
    assert config.targets_for("scratch").retention is None and not config.targets_for("scratch").any
    assert not parse_config({}).targets_for("orders").any


@pytest.mark.parametrize("span", ["24", "1w", "-1d", "h", "24 h", "1h1d"])
def test_a_control_span_not_written_as_days_and_hours_is_refused_with_how_to_write_it(span: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"tables": {"orders": {"backup_every": span}}})
    assert raised.value.message.startswith('[tables."orders"] backup_every: must be a span like "24h", "35d"')


def test_a_table_retention_reaches_the_bot_in_days() -> None:
    config = parse_config({"tables": {"orders": {"keep": "35d", "fulls": 3}}})
    assert config.defaults_for("orders") == TableDefaults(keep_days=35, fulls=3)
