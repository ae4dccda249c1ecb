"""The ImportTable stand-in (tests/support/import_standin.py) answers as AWS documents DescribeImport: rejected items
are counted and logged and the import still ends COMPLETED. Driven through boto3 against moto's server."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.aws_world import client
from tests.support.export_fixtures import EMPTY_GZIP
from tests.support.import_standin import LOG_GROUP, aws_import_table

BUCKET = "acme-ddb-backups"
KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}]


@pytest.fixture
def standin(world: str) -> Iterator[None]:
    with aws_import_table():
        yield


def put_lines(s3: Any, key: str, records: list[dict[str, Any] | None]) -> None:
    """A gzip'd data file; None writes a blank line."""
    lines = [b"" if r is None else json.dumps(r).encode() for r in records]
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(b"\n".join(lines) + b"\n"))


def imported(ddb: Any, table: str, prefix: str) -> dict[str, Any]:
    arn = ddb.import_table(
        S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": prefix},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters={
            "TableName": table,
            "AttributeDefinitions": ATTRIBUTES,
            "KeySchema": KEY_SCHEMA,
            "BillingMode": "PAY_PER_REQUEST",
        },
    )["ImportTableDescription"]["ImportArn"]
    deadline = time.monotonic() + 15
    while True:
        description: dict[str, Any] = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
        if description["ImportStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return description
        time.sleep(0.05)


def test_rejected_items_are_counted_logged_and_the_import_still_completes(standin: None, world: str) -> None:
    ddb, s3, logs = client("dynamodb", world), client("s3", world), client("logs", world)
    good = [{"Item": {"pk": {"S": f"a{i}"}, "sk": {"N": str(i)}, "text": {"S": 'quote " and ü'}}} for i in range(5)]
    wrong_type = {"Item": {"pk": {"S": "b"}, "sk": {"S": "not a number"}}}
    no_sort_key = {"Item": {"pk": {"S": "c"}}}
    put_lines(s3, "x/data/one.json.gz", [*good[:3], wrong_type, None])
    put_lines(s3, "x/data/two.json.gz", [no_sort_key, *good[3:]])
    s3.put_object(Bucket=BUCKET, Key="x/data/empty.json.gz", Body=EMPTY_GZIP)

    description = imported(ddb, "imported", "x/data/")

    assert description["ImportStatus"] == "COMPLETED"
    assert (description["ProcessedItemCount"], description["ImportedItemCount"], description["ErrorCount"]) == (7, 5, 2)
    assert description["CloudWatchLogGroupArn"].endswith(f":log-group:{LOG_GROUP}:*")
    items = ddb.scan(TableName="imported")["Items"]
    assert sorted(i["pk"]["S"] for i in items) == [f"a{i}" for i in range(5)]
    assert {i["text"]["S"] for i in items} == {'quote " and ü'}
    stream = description["ImportArn"].rsplit("/", 1)[-1]
    events = [
        json.loads(e["message"]) for e in logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream)["events"]
    ]
    assert [(e["itemS3Pointer"]["key"], e["itemS3Pointer"]["itemIndex"]) for e in events] == [
        ("x/data/one.json.gz", 3),
        ("x/data/two.json.gz", 0),
    ]
    assert "Type mismatch for key sk expected: N actual: S" in events[0]["errorMessages"][0]
    assert "Missing the key sk" in events[1]["errorMessages"][0]


def test_an_import_without_rejected_items_reports_no_errors(standin: None, world: str) -> None:
    ddb, s3 = client("dynamodb", world), client("s3", world)
    put_lines(s3, "y/data/one.json.gz", [{"Item": {"pk": {"S": f"a{i}"}, "sk": {"N": str(i)}}} for i in range(4)])

    description = imported(ddb, "clean", "y/data/")

    assert (description["ImportStatus"], description["ImportedItemCount"], description["ErrorCount"]) == (
        "COMPLETED",
        4,
        0,
    )
    assert len(ddb.scan(TableName="clean")["Items"]) == 4
