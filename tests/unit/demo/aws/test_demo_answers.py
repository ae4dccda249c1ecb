"""The demo's own answers on the front: production-like TableSizeBytes for the tables it names (nothing else of
DescribeTable changes), and AWS Backup's ListProtectedResources, which moto lacks."""

from __future__ import annotations

from typing import Any

from bot.demo.aws.backup import answer_protected_resources
from bot.demo.aws.sizes import ReportedSizes
from bot.demo.aws.standins import AwsStandIns
from tests.support.aws_standins import item, make_table, standin_client

GB = 1024**3


def test_named_tables_report_the_chosen_size_and_moto_s_item_count(aws: AwsStandIns, ddb: Any) -> None:
    ReportedSizes(aws.front, {("123456789012", "orders"): 48 * GB})
    make_table(ddb, "orders")
    make_table(ddb, "customers")
    for key in ("a", "b", "c"):
        ddb.put_item(TableName="orders", Item=item(key))
        ddb.put_item(TableName="customers", Item=item(key))

    orders = ddb.describe_table(TableName="orders")["Table"]
    customers = ddb.describe_table(TableName="customers")["Table"]

    assert (orders["TableSizeBytes"], orders["ItemCount"]) == (48 * GB, 3)
    assert customers["ItemCount"] == 3 and customers["TableSizeBytes"] < 1000, "other tables keep moto's size"
    assert orders["KeySchema"] == customers["KeySchema"] and orders["TableStatus"] == "ACTIVE"


def test_the_same_name_in_another_account_keeps_its_own_size(aws: AwsStandIns, ddb: Any) -> None:
    ReportedSizes(aws.front, {("111111111111", "orders"): 48 * GB})
    make_table(ddb, "orders")
    ddb.put_item(TableName="orders", Item=item("a"))

    assert ddb.describe_table(TableName="orders")["Table"]["TableSizeBytes"] < 1000


def test_an_unknown_table_is_still_not_found(aws: AwsStandIns, ddb: Any) -> None:
    ReportedSizes(aws.front, {("123456789012", "orders"): 48 * GB})
    try:
        ddb.describe_table(TableName="orders")
    except ddb.exceptions.ResourceNotFoundException:
        return
    raise AssertionError("DescribeTable of a missing table must answer ResourceNotFoundException")


def test_aws_backup_protects_nothing_and_other_backup_requests_still_reach_moto(aws: AwsStandIns) -> None:
    answer_protected_resources(aws.front)
    backup = standin_client("backup", aws)

    assert backup.list_protected_resources()["Results"] == []
    assert backup.list_backup_plans()["BackupPlansList"] == []
