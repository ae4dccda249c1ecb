"""The demo's world: hours of history behind a moving PITR window, an aliased account reached by assuming its role,
and a config file the bot reads as a user's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.config import load_config
from bot.demo.aws.clock import SeedingClock
from bot.demo.seeded_world import (
    BUCKET,
    GB,
    HISTORY,
    STAGING,
    STAGING_ACCOUNT,
    STAGING_BUCKET,
    STAGING_ROLE,
    DemoAws,
    start_demo_aws,
    write_config,
)

DEMO = {"aws_access_key_id": "demo", "aws_secret_access_key": "demo"}


@pytest.fixture(scope="module")
def world() -> Iterator[DemoAws]:
    aws = start_demo_aws()
    yield aws
    aws.stop()


def client(world: DemoAws, service: str, **credentials: Any) -> Any:
    return boto3.Session().client(service, region_name="us-east-1", endpoint_url=world.url, **(credentials or DEMO))


def test_orders_has_hours_of_history_that_exports_at_a_time_and_of_a_window_can_see(world: DemoAws) -> None:
    now = world.seeded_at
    held = [world.items_at("orders", now - timedelta(hours=hours)) for hours in (4, 3, 2, 1, 0)]
    assert held == sorted(held) and held[0] < held[-1], f"orders grows over the hours: {held}"
    assert world.changed_between("orders", now - timedelta(hours=2), now - timedelta(hours=1)) >= 6
    assert world.items_at("orders", now) == len(client(world, "dynamodb").scan(TableName="orders")["Items"])


def test_the_pitr_window_reaches_back_to_the_history_and_moves_with_the_clock(world: DemoAws) -> None:
    ddb = client(world, "dynamodb")
    first = ddb.describe_continuous_backups(TableName="orders")["ContinuousBackupsDescription"]
    window = first["PointInTimeRecoveryDescription"]
    assert window["EarliestRestorableDateTime"] <= world.seeded_at - HISTORY + timedelta(seconds=1)
    time.sleep(1.1)
    later = ddb.describe_continuous_backups(TableName="orders")["ContinuousBackupsDescription"]
    assert later["PointInTimeRecoveryDescription"]["LatestRestorableDateTime"] > window["LatestRestorableDateTime"]
    assert window["LatestRestorableDateTime"] >= datetime.now(UTC) - timedelta(minutes=6)


def test_tables_report_production_sizes_and_their_real_item_counts(world: DemoAws) -> None:
    orders = client(world, "dynamodb").describe_table(TableName="orders")["Table"]
    assert orders["TableSizeBytes"] > 40 * GB
    assert orders["ItemCount"] == world.items_at("orders", world.seeded_at)


def test_the_staging_account_is_reached_through_its_role_as_the_config_file_says(
    world: DemoAws, tmp_path: Path
) -> None:
    config = load_config(write_config(tmp_path))
    assert config.accounts[STAGING].role_arn == STAGING_ROLE
    assert config.defaults_for(f"{STAGING}:orders").bucket == STAGING_BUCKET

    credentials = client(world, "sts").assume_role(RoleArn=STAGING_ROLE, RoleSessionName="bot")["Credentials"]
    staging = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
    assert client(world, "sts", **staging).get_caller_identity()["Account"] == STAGING_ACCOUNT
    table = client(world, "dynamodb", **staging).describe_table(TableName="orders")["Table"]
    assert table["TableArn"].split(":")[4] == STAGING_ACCOUNT and table["ItemCount"] == 12
    assert STAGING_BUCKET in [b["Name"] for b in client(world, "s3", **staging).list_buckets()["Buckets"]]
    assert BUCKET in [b["Name"] for b in client(world, "s3").list_buckets()["Buckets"]]
    role = client(world, "iam", **staging).get_role(RoleName="ddb-backup-bot")["Role"]
    assert "123456789012" in str(role["AssumeRolePolicyDocument"])


def test_the_seeding_clock_follows_the_real_time_once_resumed_and_never_runs_ahead() -> None:
    clock = SeedingClock()
    past = datetime.now(UTC) - timedelta(hours=3)
    clock.seed_at(past)
    assert clock() == past
    clock.seed_at(datetime.now(UTC) + timedelta(hours=1))
    assert clock() <= datetime.now(UTC)
    clock.resume()
    assert abs(clock() - datetime.now(UTC)) < timedelta(seconds=1)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.seed_at(datetime(2026, 1, 1))
