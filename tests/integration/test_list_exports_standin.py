"""The tests' ListExports in front of moto (tests/support/list_exports.py) answers as AWS documents it: TableArn
optional (the caller's account and region), MaxResults 1..25 and NextToken, newest ExportArn first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.aws_proxy import AwsFaultProxy
from tests.support.aws_world import DEFAULT_ACCOUNT, account_credentials

OWNER = f"arn:aws:dynamodb:us-east-1:{DEFAULT_ACCOUNT}:table/"


@pytest.fixture
def proxy(world: str) -> Iterator[AwsFaultProxy]:
    with AwsFaultProxy(world, lambda _operation, _body: None) as front:
        yield front


def dynamodb(proxy: AwsFaultProxy, region: str = "us-east-1", **credentials: Any) -> Any:
    return boto3.client("dynamodb", region_name=region, endpoint_url=proxy.url, **credentials)


def summary(table: str, export_id: str, owner: str = OWNER) -> dict[str, str]:
    return {"ExportArn": f"{owner}{table}/export/{export_id}", "ExportStatus": "COMPLETED", "ExportType": "FULL_EXPORT"}


def every_page(ddb: Any, **request: Any) -> tuple[list[str], int]:
    arns: list[str] = []
    pages, token = 0, None
    while True:
        page = ddb.list_exports(**request, **({"NextToken": token} if token else {}))
        pages += 1
        arns += [s["ExportArn"] for s in page["ExportSummaries"]]
        token = page.get("NextToken")
        if not token:
            return arns, pages


def test_without_table_arn_every_export_of_the_account_and_region_is_listed_newest_arn_first_in_pages(
    proxy: AwsFaultProxy, world: str
) -> None:
    ddb = dynamodb(proxy)
    moto_export = ddb.export_table_to_point_in_time(
        TableArn=f"{OWNER}orders", S3Bucket="acme-ddb-backups", S3Prefix="p"
    )["ExportDescription"]["ExportArn"]
    proxy.exports.extra += [summary("archive", f"0176463360{i:04d}-0000000{i % 10}") for i in range(30)]
    proxy.exports.extra.append(
        summary("archive", "01764633600000-ffffffff", owner=OWNER.replace("us-east-1", "eu-west-1"))
    )
    proxy.exports.extra.append(
        summary("archive", "01764633600000-eeeeeeee", owner=OWNER.replace(DEFAULT_ACCOUNT, "1" * 12))
    )

    arns, pages = every_page(ddb, MaxResults=25)

    assert pages == 2 and len(arns) == 31, "30 of archive and moto's export of orders; not other regions or accounts"
    assert moto_export in arns
    assert arns == sorted(arns, reverse=True), "reverse alphanumeric order of ExportArn"
    assert every_page(ddb, MaxResults=25, TableArn=f"{OWNER}orders")[0] == [moto_export]
    assert every_page(ddb)[1] == 2, "25 a page by default"


def test_another_account_sees_only_its_own_exports(proxy: AwsFaultProxy, world: str) -> None:
    proxy.exports.extra.append(summary("archive", "01764633600000-ffffffff"))
    other = dynamodb(proxy, **account_credentials(world, "111111111111"))
    assert other.list_exports()["ExportSummaries"] == []


@pytest.mark.parametrize("size", [0, 26])
def test_max_results_outside_1_to_25_is_refused(proxy: AwsFaultProxy, world: str, size: int) -> None:
    client = dynamodb(proxy, config=Config(parameter_validation=False))  # boto3 would refuse it first
    with pytest.raises(ClientError) as refused:
        client.list_exports(MaxResults=size)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_moto_itself_lists_an_account_s_exports_without_table_arn_in_pages(world: str) -> None:
    """Tests that talk to moto directly get the same ListExports (moto_list_exports, put in place by the conftest)."""
    ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=world)
    made = [
        ddb.export_table_to_point_in_time(TableArn=f"{OWNER}orders", S3Bucket="acme-ddb-backups", S3Prefix=f"p{i}")[
            "ExportDescription"
        ]["ExportArn"]
        for i in range(3)
    ]
    arns, pages = every_page(ddb, MaxResults=2)
    assert sorted(arns) == sorted(made) and pages == 2 and arns == sorted(arns, reverse=True)
