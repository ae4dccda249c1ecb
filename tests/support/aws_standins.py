"""moto's server with the DynamoDB stand-ins in front (bot/demo/aws), for tests that need what moto lacks: history
and a moving PITR window, exports as AWS writes them (incremental, filtered), bulk put items.

Opt in: `with running_standins(moto_endpoint, clock) as aws:` then point every boto3 client at `aws.url`
(`standin_client`). Existing tests keep talking to moto directly. A `SettableClock` seeds history in the past:
set it back, write through the front, move it forward.
"""

from __future__ import annotations

import functools
import gzip
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3

from bot.demo.aws.clock import SettableClock
from bot.demo.aws.standins import AwsStandIns, start_standins
from bot.demo.world import REGION, reset_moto

START = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
BUCKET = "acme-ddb-backups"
BULK_TERMINAL = frozenset({"COMPLETED", "COMPLETED_WITH_ERRORS", "CANCELLED", "FAILED"})
TESTING = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@contextmanager
def running_standins(moto_endpoint: str, clock: SettableClock | None = None, **options: Any) -> Iterator[AwsStandIns]:
    """A fresh moto (reset) behind a new front with every stand-in; closed (runners stopped) afterwards."""
    reset_moto(moto_endpoint)
    with start_standins(moto_endpoint, clock=clock or SettableClock(START), **options) as standins:
        yield standins


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session()  # one model loader for the tests' clients: a new Session reads every model again


def standin_client(service: str, standins: AwsStandIns, **options: Any) -> Any:
    """A boto3 client for the front (the test's own credentials unless others are given)."""
    settings = {"region_name": REGION, "endpoint_url": standins.url, **(options or TESTING)}
    return _session().client(service, **settings)  # type: ignore[call-overload]


def table_arn(table: str, account: str = "123456789012") -> str:
    return f"arn:aws:dynamodb:{REGION}:{account}:table/{table}"


def wait_for(read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool], seconds: float = 20) -> Any:
    """Poll `read` until `done` says so (short real sleeps, a generous deadline); the last answer."""
    deadline = time.monotonic() + seconds
    while True:
        answer = read()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.02)


def finished_export(ddb: Any, export_arn: str) -> dict[str, Any]:
    """DescribeExport until the export leaves IN_PROGRESS."""
    answer = wait_for(
        lambda: ddb.describe_export(ExportArn=export_arn)["ExportDescription"],
        lambda d: d["ExportStatus"] != "IN_PROGRESS",
    )
    return dict(answer)


def export_lines(s3: Any, bucket: str, description: dict[str, Any]) -> list[dict[str, Any]]:
    """Every data line of a finished export, found through its manifests as a reader must."""
    summary = json.loads(s3.get_object(Bucket=bucket, Key=description["ExportManifest"])["Body"].read())
    files = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read()
    lines = []
    for entry in files.splitlines():
        data = s3.get_object(Bucket=bucket, Key=json.loads(entry)["dataFileS3Key"])["Body"].read()
        lines.extend(json.loads(line) for line in gzip.decompress(data).splitlines())
    return lines


def make_table(ddb: Any, name: str = "orders", *, pitr: bool = True, sort_key: bool = True) -> str:
    """An on-demand table keyed by pk (S) and sk (S), PITR as asked; returns its ARN."""
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    definitions = [{"AttributeName": "pk", "AttributeType": "S"}]
    if sort_key:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        definitions.append({"AttributeName": "sk", "AttributeType": "S"})
    arn = ddb.create_table(
        TableName=name, KeySchema=schema, AttributeDefinitions=definitions, BillingMode="PAY_PER_REQUEST"
    )["TableDescription"]["TableArn"]
    if pitr:
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    return str(arn)


def item(pk: str, sk: str = "v1", **attributes: str) -> dict[str, Any]:
    """An item with string attributes."""
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in attributes.items()}}


def put_bulk_input(s3: Any, key: str, lines: list[Any], *, compress: bool = True) -> int:
    """A bulk input object of JSON Lines (records as dicts, or raw bytes lines); returns its size."""
    text = b"\n".join(line if isinstance(line, bytes) else json.dumps(line).encode() for line in lines) + b"\n"
    data = gzip.compress(text) if compress else text
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return len(data)


def start_bulk(ddb: Any, *, table: str = "orders", prefix: str = "in/", **overrides: Any) -> str:
    """StartBulkPutItems from `<prefix>` in BUCKET (gzip DynamoDB JSON) into `table`, reports under `report`."""
    request: dict[str, Any] = {
        "TableName": table,
        "InputS3Configuration": {
            "S3Bucket": BUCKET, "S3KeyPrefix": prefix, "InputFormat": "DYNAMODB_JSON", "InputCompressionType": "GZIP",
        },
        "OutputS3Configuration": {"S3Bucket": BUCKET, "S3KeyPrefix": "report", "OutputType": ["ERROR", "CONDITION_CHECK_FAILURE"]},
        "MaxWriteRequestUnits": 1024,
    }  # fmt: skip
    request.update(overrides)
    return str(ddb.start_bulk_put_items(**request)["BulkOperationDescription"]["BulkOperationArn"])


def finished_bulk(ddb: Any, arn: str) -> dict[str, Any]:
    """DescribeBulkOperation until the operation is in a terminal status."""
    answer = wait_for(
        lambda: ddb.describe_bulk_operation(BulkOperationArn=arn)["BulkOperationDescription"],
        lambda d: d["BulkOperationStatus"] in BULK_TERMINAL,
    )
    assert answer["BulkOperationStatus"] in BULK_TERMINAL, answer
    return dict(answer)


def write_item(ddb: Any, table: str, kind: str, key: str, value: str) -> None:
    """One write of `kind` (put | update | delete) to `key`, setting attribute `v` to `value`."""
    if kind == "put":
        ddb.put_item(TableName=table, Item=item(key, v=value))
    elif kind == "update":
        ddb.update_item(
            TableName=table,
            Key=item(key),
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"S": value}},
        )
    else:
        ddb.delete_item(TableName=table, Key=item(key))
