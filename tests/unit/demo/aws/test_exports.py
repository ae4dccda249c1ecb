"""Full exports from the history, in AWS's layout, with AWS's validation, idempotency and progress."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bot.demo.aws.clock import SettableClock
from bot.demo.aws.exports import ExportPacing
from bot.demo.aws.ion_items import ion_records
from bot.demo.aws.standins import AwsStandIns
from tests.support.aws_standins import (
    BUCKET,
    START,
    TESTING,
    export_lines,
    finished_export,
    item,
    make_table,
    running_standins,
    standin_client,
)
from tests.support.aws_world import client, s3_keys

EXPORT_ID = re.compile(r"\d{14}-[0-9a-f]{8}")
DATA_FILE = re.compile(r"[a-z0-9]{26}\.json\.gz")


def export(ddb: Any, arn: str, **request: Any) -> dict[str, Any]:
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, **request)["ExportDescription"]
    return finished_export(ddb, started["ExportArn"])


def body(s3: Any, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_a_full_export_at_a_past_time_holds_the_table_as_it_was_then(ddb: Any, s3: Any, clock: SettableClock) -> None:
    arn = make_table(ddb)
    ddb.put_item(TableName="orders", Item=item("a", state="new"))
    ddb.put_item(TableName="orders", Item=item("b"))
    clock.advance(minutes=10)
    ddb.put_item(TableName="orders", Item=item("a", state="paid"))
    ddb.delete_item(TableName="orders", Key=item("b"))
    ddb.put_item(TableName="orders", Item=item("c"))
    clock.advance(minutes=10)

    then = export(ddb, arn, S3Prefix="then", ExportTime=START + timedelta(minutes=5))
    now = export(ddb, arn, S3Prefix="now")

    assert then["ExportTime"] == START + timedelta(minutes=5)
    assert [line["Item"] for line in export_lines(s3, BUCKET, then)] == [item("a", state="new"), item("b")]
    assert [line["Item"] for line in export_lines(s3, BUCKET, now)] == [item("a", state="paid"), item("c")]
    assert (then["ItemCount"], now["ItemCount"], now["ExportType"]) == (2, 2, "FULL_EXPORT")


@pytest.fixture
def small_files(moto_server: str, clock: SettableClock) -> Iterator[AwsStandIns]:
    with running_standins(moto_server, clock, export_lines_per_file=2) as standins:
        yield standins


def test_an_export_is_laid_out_exactly_as_aws_writes_one(small_files: AwsStandIns, clock: SettableClock) -> None:
    ddb, s3 = standin_client("dynamodb", small_files), standin_client("s3", small_files)
    s3.create_bucket(Bucket=BUCKET)
    arn = make_table(ddb)
    for n in range(5):
        ddb.put_item(TableName="orders", Item=item(f"k{n}", blob="x" * n))
    clock.advance(minutes=1)

    done = export(ddb, arn, S3Prefix="backups/daily")

    export_id = done["ExportArn"].rsplit("/", 1)[-1]
    assert EXPORT_ID.fullmatch(export_id) and done["ExportArn"] == f"{arn}/export/{export_id}"
    root = f"backups/daily/AWSDynamoDB/{export_id}"
    assert done["ExportManifest"] == f"{root}/manifest-summary.json"
    keys = s3_keys(s3, BUCKET)
    data = [k for k in keys if k.startswith(f"{root}/data/")]
    assert sorted(set(keys) - set(data)) == sorted(
        f"{root}/{name}"
        for name in (
            "_started",
            "manifest-files.json",
            "manifest-files.md5",
            "manifest-summary.json",
            "manifest-summary.md5",
        )
    )
    assert len(data) == 3 and all(DATA_FILE.fullmatch(k.rsplit("/", 1)[-1]) for k in data)
    assert body(s3, f"{root}/_started") == b""
    for manifest in ("manifest-files", "manifest-summary"):
        expected = base64.b64encode(hashlib.md5(body(s3, f"{root}/{manifest}.json")).digest())  # noqa: S324
        assert body(s3, f"{root}/{manifest}.md5") == expected
    files = [json.loads(line) for line in body(s3, f"{root}/manifest-files.json").splitlines()]
    assert sorted(f["dataFileS3Key"] for f in files) == sorted(data)
    for entry in files:
        raw = body(s3, entry["dataFileS3Key"])
        assert entry["md5Checksum"] == base64.b64encode(hashlib.md5(raw).digest()).decode()  # noqa: S324
        assert re.fullmatch(r"[0-9a-f]{32}-1", entry["etag"])
        assert entry["itemCount"] == len(gzip.decompress(raw).splitlines())
    summary = json.loads(body(s3, f"{root}/manifest-summary.json"))
    assert list(summary) == [
        "version", "exportArn", "startTime", "endTime", "tableArn", "tableId", "exportTime", "s3Bucket", "s3Prefix",
        "s3SseAlgorithm", "s3SseKmsKeyId", "manifestFilesS3Key", "billedSizeBytes", "itemCount", "outputFormat",
    ]  # fmt: skip
    assert summary["version"] == "2020-06-30" and summary["exportArn"] == done["ExportArn"]
    assert summary["exportTime"] == "2026-01-14T10:01:00.000Z" and summary["tableId"] == done["TableId"]
    assert summary["itemCount"] == sum(f["itemCount"] for f in files) == done["ItemCount"] == 5
    assert summary["manifestFilesS3Key"] == f"{root}/manifest-files.json" and summary["s3Prefix"] == "backups/daily"
    assert done["BilledSizeBytes"] == summary["billedSizeBytes"] > 0


def test_an_empty_table_exports_one_empty_gzip_file(ddb: Any, s3: Any) -> None:
    arn = make_table(ddb)

    done = export(ddb, arn)

    files = [json.loads(line) for line in body(s3, done["ExportManifest"].replace("summary", "files")).splitlines()]
    assert [f["itemCount"] for f in files] == [0] and done["ItemCount"] == 0
    raw = body(s3, files[0]["dataFileS3Key"])
    assert len(raw) == 20 and gzip.decompress(raw) == b""
    assert files[0]["dataFileS3Key"].startswith("AWSDynamoDB/")  # no prefix: keys start at the bucket's root


def test_an_export_finishes_at_its_second_describe_and_writes_its_files_then(ddb: Any, s3: Any) -> None:
    arn = make_table(ddb)

    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET)["ExportDescription"]
    first = ddb.describe_export(ExportArn=started["ExportArn"])["ExportDescription"]
    keys_while_running = s3_keys(s3, BUCKET)
    second = ddb.describe_export(ExportArn=started["ExportArn"])["ExportDescription"]

    assert (started["ExportStatus"], first["ExportStatus"], second["ExportStatus"]) == (
        "IN_PROGRESS", "IN_PROGRESS", "COMPLETED",
    )  # fmt: skip
    assert [k.rsplit("/", 1)[-1] for k in keys_while_running] == ["_started"]
    assert "EndTime" not in first and "ExportManifest" not in first and "ItemCount" not in first
    assert second["ExportManifest"] in s3_keys(s3, BUCKET)


def test_an_export_paced_by_seconds_finishes_when_the_clock_says_so(moto_server: str, clock: SettableClock) -> None:
    with running_standins(moto_server, clock, export_pacing=ExportPacing(describes=None, seconds=120)) as aws:
        ddb = standin_client("dynamodb", aws)
        standin_client("s3", aws).create_bucket(Bucket=BUCKET)
        arn = make_table(ddb)
        started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET)["ExportDescription"]
        statuses = [ddb.describe_export(ExportArn=started["ExportArn"])["ExportDescription"]["ExportStatus"]]
        clock.advance(seconds=119)
        statuses.append(ddb.describe_export(ExportArn=started["ExportArn"])["ExportDescription"]["ExportStatus"])
        clock.advance(seconds=1)
        statuses.append(ddb.list_exports(TableArn=arn)["ExportSummaries"][0]["ExportStatus"])

    assert statuses == ["IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]


def test_an_export_to_a_missing_bucket_fails_with_the_s3_error(ddb: Any) -> None:
    arn = make_table(ddb)

    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="no-such-bucket")["ExportDescription"]
    done = finished_export(ddb, started["ExportArn"])

    assert (done["ExportStatus"], done["FailureCode"]) == ("FAILED", "NoSuchBucket")
    assert "no-such-bucket" in done["FailureMessage"]


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("pitr off", "PointInTimeRecoveryUnavailableException"),
        ("unknown table", "TableNotFoundException"),
        ("before the window", "InvalidExportTimeException"),
        ("in the future", "InvalidExportTimeException"),
        ("bucket owner not 12 digits", "ValidationException"),
    ],
)
def test_a_refused_export_gets_the_aws_error_code(ddb: Any, clock: SettableClock, case: str, code: str) -> None:
    arn = make_table(ddb)
    make_table(ddb, "customers", pitr=False)
    clock.advance(hours=1)
    requests: dict[str, dict[str, Any]] = {
        "pitr off": {"TableArn": arn.replace("orders", "customers")},
        "unknown table": {"TableArn": arn.replace("orders", "missing")},
        "before the window": {"ExportTime": START - timedelta(seconds=1)},
        "in the future": {"ExportTime": clock() + timedelta(seconds=1)},
        "bucket owner not 12 digits": {"S3BucketOwner": "12345"},
    }

    with pytest.raises(ClientError) as refused:
        ddb.export_table_to_point_in_time(**{"TableArn": arn, "S3Bucket": BUCKET, **requests[case]})

    assert refused.value.response["Error"]["Code"] == code


def test_exports_in_progress_beyond_the_accounts_limit_are_refused(moto_server: str, clock: SettableClock) -> None:
    with running_standins(moto_server, clock, export_max_in_progress=2) as aws:
        no_retries = Config(retries={"total_max_attempts": 1})  # botocore retries LimitExceeded
        ddb = standin_client("dynamodb", aws, config=no_retries, **TESTING)
        standin_client("s3", aws).create_bucket(Bucket=BUCKET)
        _two_running_then_one_more(ddb)


def _two_running_then_one_more(ddb: Any) -> None:
    arn = make_table(ddb)
    running = [ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET) for _ in range(2)]

    with pytest.raises(ClientError) as refused:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET)
    finished_export(ddb, running[0]["ExportDescription"]["ExportArn"])
    third = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET)

    assert refused.value.response["Error"]["Code"] == "LimitExceededException"
    assert third["ExportDescription"]["ExportStatus"] == "IN_PROGRESS"


def test_a_client_token_returns_the_same_export_and_refuses_other_parameters(
    ddb: Any, s3: Any, clock: SettableClock
) -> None:
    arn = make_table(ddb)
    first = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, ClientToken="nightly-1")
    clock.advance(hours=7, minutes=59)
    again = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, ClientToken="nightly-1")
    with pytest.raises(ClientError) as conflict:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, S3Prefix="other", ClientToken="nightly-1")
    clock.advance(minutes=1)
    later = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, ClientToken="nightly-1")

    assert again["ExportDescription"]["ExportArn"] == first["ExportDescription"]["ExportArn"]
    assert conflict.value.response["Error"]["Code"] == "ExportConflictException"
    assert later["ExportDescription"]["ExportArn"] != first["ExportDescription"]["ExportArn"]
    assert len(ddb.list_exports(TableArn=arn)["ExportSummaries"]) == 2


def test_list_exports_merges_moto_s_own_exports_and_pages(aws: AwsStandIns, ddb: Any, s3: Any) -> None:
    arn = make_table(ddb)
    moto_export = client("dynamodb", aws.front.upstream, **TESTING).export_table_to_point_in_time(
        TableArn=arn, S3Bucket=BUCKET, S3Prefix="moto"
    )["ExportDescription"]["ExportArn"]
    ours = [export(ddb, arn)["ExportArn"] for _ in range(2)]

    first = ddb.list_exports(TableArn=arn, MaxResults=2)
    second = ddb.list_exports(TableArn=arn, MaxResults=2, NextToken=first["NextToken"])

    listed = [summary["ExportArn"] for page in (first, second) for summary in page["ExportSummaries"]]
    assert listed == [moto_export, *ours] and "NextToken" not in second
    assert ddb.describe_export(ExportArn=moto_export)["ExportDescription"]["ExportArn"] == moto_export
    with pytest.raises(ClientError) as missing:
        ddb.describe_export(ExportArn=f"{arn}/export/01768385930622-00000000")
    assert missing.value.response["Error"]["Code"] == "ExportNotFoundException"


def test_an_ion_export_holds_the_same_items_as_ion_structs_in_ion_files(
    ddb: Any, s3: Any, clock: SettableClock
) -> None:
    arn = make_table(ddb)
    for n in range(5):
        ddb.put_item(TableName="orders", Item={**item(f"k{n}"), "n": {"N": str(n)}, "raw": {"B": b"\x00\x01"}})
    clock.advance(minutes=1)
    ion = finished_export(ddb, ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, ExportFormat="ION")[
        "ExportDescription"]["ExportArn"])  # fmt: skip
    plain = finished_export(
        ddb, ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET)["ExportDescription"]["ExportArn"]
    )

    summary = json.loads(s3.get_object(Bucket=BUCKET, Key=ion["ExportManifest"])["Body"].read())
    files = s3.get_object(Bucket=BUCKET, Key=summary["manifestFilesS3Key"])["Body"].read().splitlines()
    keys = [json.loads(entry)["dataFileS3Key"] for entry in files]
    assert ion["ExportFormat"] == "ION" and summary["outputFormat"] == "ION" and keys
    assert all(key.endswith(".ion.gz") for key in keys)
    records = [
        r for key in keys for r in ion_records(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))
    ]
    as_json = export_lines(s3, BUCKET, plain)
    assert sorted(json.dumps(r, sort_keys=True) for r in records) == sorted(
        json.dumps(r, sort_keys=True) for r in as_json
    )
