"""PITR's window moves with the clock, as AWS's does: from the later of enabling and the recovery period's start, to
about five minutes ago; switching PITR off and on starts it again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bot.demo.aws.clock import SettableClock
from bot.demo.aws.standins import AwsStandIns
from tests.support.aws_standins import START, TESTING, make_table, standin_client
from tests.support.aws_world import client


def window(ddb: Any, table: str = "orders") -> tuple[str, datetime | None, datetime | None, int | None]:
    pitr = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    description = pitr["PointInTimeRecoveryDescription"]
    return (
        description["PointInTimeRecoveryStatus"],
        description.get("EarliestRestorableDateTime"),
        description.get("LatestRestorableDateTime"),
        description.get("RecoveryPeriodInDays"),
    )


def set_pitr(ddb: Any, enabled: bool, **spec: Any) -> dict[str, Any]:
    answer = ddb.update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled, **spec}
    )
    return dict(answer["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"])


def test_the_window_starts_when_pitr_is_enabled_and_ends_five_minutes_ago(ddb: Any, clock: SettableClock) -> None:
    make_table(ddb)

    assert window(ddb) == ("ENABLED", START, START, 35)
    clock.advance(hours=2)
    assert window(ddb) == ("ENABLED", START, START + timedelta(hours=2) - timedelta(minutes=5), 35)


def test_the_window_slides_once_the_recovery_period_has_passed(ddb: Any, clock: SettableClock) -> None:
    make_table(ddb)
    clock.advance(days=40)

    assert window(ddb)[1:3] == (clock() - timedelta(days=35), clock() - timedelta(minutes=5))
    set_pitr(ddb, True, RecoveryPeriodInDays=3)
    assert window(ddb) == ("ENABLED", clock() - timedelta(days=3), clock() - timedelta(minutes=5), 3)


def test_switching_pitr_off_and_on_restarts_the_window(ddb: Any, clock: SettableClock) -> None:
    make_table(ddb)
    clock.advance(hours=3)
    assert set_pitr(ddb, False) == {"PointInTimeRecoveryStatus": "DISABLED"}
    assert window(ddb) == ("DISABLED", None, None, None)
    clock.advance(hours=1)
    enabled = set_pitr(ddb, True)

    assert enabled["EarliestRestorableDateTime"] == START + timedelta(hours=4)
    clock.advance(hours=1)
    assert window(ddb)[1] == START + timedelta(hours=4)


def test_enabling_again_keeps_the_window(ddb: Any, clock: SettableClock) -> None:
    make_table(ddb)
    clock.advance(hours=1)
    set_pitr(ddb, True)

    assert window(ddb)[1] == START


def test_pitr_enabled_behind_the_fronts_back_counts_from_when_the_front_sees_it(
    aws: AwsStandIns, clock: SettableClock
) -> None:
    moto = client("dynamodb", aws.front.upstream, **TESTING)
    make_table(moto)  # PITR enabled on moto directly
    clock.advance(hours=1)

    assert window(standin_client("dynamodb", aws)) == ("ENABLED", START + timedelta(hours=1), clock(), 35)


def test_an_unknown_table_and_an_invalid_period_are_refused_as_aws_does(aws: AwsStandIns, ddb: Any) -> None:
    make_table(ddb)
    raw = client("dynamodb", aws.url, config=Config(parameter_validation=False), **TESTING)

    with pytest.raises(ClientError) as missing:
        ddb.describe_continuous_backups(TableName="missing")
    with pytest.raises(ClientError) as period:
        raw.update_continuous_backups(
            TableName="orders",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36},
        )

    assert missing.value.response["Error"]["Code"] == "TableNotFoundException"
    assert period.value.response["Error"]["Code"] == "ValidationException"
    assert window(ddb)[3] == 35
