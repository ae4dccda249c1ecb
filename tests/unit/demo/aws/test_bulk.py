"""Bulk put items: every item lands (through the history), paced on the clock, with AWS's statuses, counts and report."""

from __future__ import annotations

import gzip
import json
import time
from collections import Counter
from typing import Any

import pytest

from bot.demo.aws.clock import SettableClock
from bot.demo.aws.ion_items import ion_line
from bot.demo.aws.standins import AwsStandIns
from tests.support.aws_standins import (
    BUCKET,
    START,
    export_lines,
    finished_bulk,
    finished_export,
    item,
    make_table,
    put_bulk_input,
    start_bulk,
)
from tests.support.aws_world import s3_keys


def report(s3: Any, kind: str) -> list[dict[str, Any]]:
    keys = [k for k in s3_keys(s3, BUCKET, "report/") if f"/{kind}/" in k]
    return [
        json.loads(line) for key in keys for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().splitlines()
    ]


def scan(ddb: Any, table: str = "orders") -> list[dict[str, Any]]:
    return sorted(ddb.scan(TableName=table)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def test_every_item_of_every_input_object_lands_and_reaches_the_history(
    ddb: Any, s3: Any, clock: SettableClock
) -> None:
    arn = make_table(ddb)
    items = [{**item(f"k{n:02d}"), "n": {"N": str(n)}, "raw": {"B": "AAE="}} for n in range(30)]
    sizes = [put_bulk_input(s3, f"in/part-{p}.json.gz", [{"Item": i} for i in items[p::3]]) for p in range(3)]
    put_bulk_input(s3, "elsewhere/ignored.json.gz", [{"Item": item("not-under-the-prefix")}])

    done = finished_bulk(ddb, start_bulk(ddb))
    clock.advance(minutes=1)
    exported = finished_export(
        ddb, ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET)["ExportDescription"]["ExportArn"]
    )

    assert done["BulkOperationStatus"] == "COMPLETED" and "FailureCode" not in done and done["EndTime"] == START
    assert (done["ProcessedItemCount"], done["FailedItemCount"]) == (30, 0)
    assert done["ProcessedInputBytes"] == done["TotalInputBytes"] == sum(sizes)
    assert [i["pk"]["S"] for i in scan(ddb)] == [f"k{n:02d}" for n in range(30)]
    assert scan(ddb)[0]["raw"] == {"B": b"\x00\x01"}
    assert len(export_lines(s3, BUCKET, exported)) == 30  # bulk writes are in the PITR history
    usage = done["BulkOperationUsage"][0]
    assert usage["TableName"] == "orders" and usage["BulkPutBytes"] == usage["Table"]["BulkPutBytes"] > 0


def test_usage_counts_the_bytes_each_secondary_index_receives(ddb: Any, s3: Any) -> None:
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "state")],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-state", "KeySchema": [{"AttributeName": "state", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}
        ],
        BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    put_bulk_input(
        s3, "in/a.json.gz", [{"Item": item("a", state="paid", note="x" * 100)}, {"Item": item("b", note="y")}]
    )

    usage = finished_bulk(ddb, start_bulk(ddb))["BulkOperationUsage"][0]

    index_bytes = len("pk") + 1 + len("sk") + 2 + len("state") + 4  # keys and index key of the one indexed item
    assert usage["GlobalSecondaryIndexes"] == {"by-state": {"BulkPutBytes": index_bytes}}
    assert usage["BulkPutBytes"] == usage["Table"]["BulkPutBytes"] + index_bytes


def test_writes_never_exceed_max_write_request_units_in_a_second_of_the_clock(
    aws: AwsStandIns, ddb: Any, s3: Any, clock: SettableClock
) -> None:
    make_table(ddb)
    big = "x" * 300_000  # 293 write units: three fit in 1,024
    put_bulk_input(s3, "in/a.json.gz", [{"Item": item(f"k{n}", blob=big)} for n in range(8)])

    arn = start_bulk(ddb)
    processed = []
    for _ in range(3):
        processed.append(_settled(ddb, arn))
        clock.advance(seconds=1)
    done = finished_bulk(ddb, arn)

    assert processed == [3, 6, 8] and done["BulkOperationStatus"] == "COMPLETED"
    changes = aws.timeline("orders").changes()
    assert list(Counter(c.micros // 1_000_000 for c in changes).values()) == [3, 3, 2]


def test_malformed_lines_and_unreadable_objects_complete_with_errors_and_are_reported(ddb: Any, s3: Any) -> None:
    make_table(ddb)
    lines: list[Any] = [
        {"Item": item("good-1")},
        b"{not json",
        b"[1, 2]",
        {"Item": item("extra"), "Unknown": 1},
        {"Item": {"pk": {"S": "no-sort-key"}}},
        {"Item": {"pk": {"N": "1"}, "sk": {"S": "v1"}}},
        {"Item": item("too-big", blob="x" * 410_000)},
        b"   ",
        {"Item": item("good-2")},
    ]
    put_bulk_input(s3, "in/a.json.gz", lines)
    s3.put_object(Bucket=BUCKET, Key="in/broken.json.gz", Body=b"not gzip at all")

    done = finished_bulk(ddb, start_bulk(ddb))

    assert done["BulkOperationStatus"] == "COMPLETED_WITH_ERRORS" and "FailureCode" not in done
    assert (done["ProcessedItemCount"], done["FailedItemCount"]) == (8, 6)
    assert [i["pk"]["S"] for i in scan(ddb)] == ["good-1", "good-2"]
    errors = report(s3, "ERROR")
    assert sorted((e["S3Key"], e.get("LineNumber")) for e in errors) == sorted(
        [("in/a.json.gz", n) for n in (2, 3, 4, 5, 6, 7)] + [("in/broken.json.gz", None)]
    )
    assert all(e["ErrorCode"] and e["ErrorMessage"] for e in errors)
    (manifest_key,) = (k for k in s3_keys(s3, BUCKET, "report/") if k.endswith("/manifest.json"))
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read())
    assert manifest["bulkOperationStatus"] == "COMPLETED_WITH_ERRORS"
    assert [f["recordCount"] for f in manifest["files"]] == [7]


def test_condition_failures_are_reported_with_the_existing_item_and_the_operation_completes(ddb: Any, s3: Any) -> None:
    make_table(ddb)
    ddb.put_item(TableName="orders", Item=item("taken", owner="first"))
    absent = {"ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": "pk"}}
    put_bulk_input(
        s3, "in/a.json.gz", [{"Item": item("taken", owner="second"), **absent}, {"Item": item("free"), **absent}]
    )

    done = finished_bulk(ddb, start_bulk(ddb))

    assert done["BulkOperationStatus"] == "COMPLETED"
    assert (done["ProcessedItemCount"], done["FailedItemCount"]) == (2, 0)
    assert scan(ddb) == [item("free"), item("taken", owner="first")]
    assert report(s3, "CONDITION_CHECK_FAILURE") == [
        {"S3Key": "in/a.json.gz", "LineNumber": 1, "Item": item("taken", owner="second"), "ExistingItem": item("taken", owner="first")}
    ]  # fmt: skip
    assert report(s3, "ERROR") == []


def test_only_the_requested_output_types_are_written(ddb: Any, s3: Any) -> None:
    make_table(ddb)
    ddb.put_item(TableName="orders", Item=item("taken"))
    put_bulk_input(
        s3, "in/a.json.gz", [{"Item": item("taken"), "ConditionExpression": "attribute_not_exists(pk)"}, b"bad"]
    )
    output = {"S3Bucket": BUCKET, "S3KeyPrefix": "report", "OutputType": ["ERROR"]}

    finished_bulk(ddb, start_bulk(ddb, OutputS3Configuration=output))

    assert len(report(s3, "ERROR")) == 1 and report(s3, "CONDITION_CHECK_FAILURE") == []


def test_a_cancelled_operation_stops_writing_and_keeps_what_it_wrote(aws: AwsStandIns, ddb: Any, s3: Any) -> None:
    make_table(ddb)
    put_bulk_input(s3, "in/a.json.gz", [{"Item": item(f"k{n}")} for n in range(10)])
    aws.bulk.hold.pause_after(3)

    arn = start_bulk(ddb)
    assert aws.bulk.hold.paused.wait(20)
    cancel = ddb.cancel_bulk_operation(BulkOperationArn=arn)
    cancelling = ddb.describe_bulk_operation(BulkOperationArn=arn)["BulkOperationDescription"]
    aws.bulk.hold.resume()
    done = finished_bulk(ddb, arn)

    assert cancel["BulkOperationStatus"] == cancelling["BulkOperationStatus"] == "CANCELLING"
    assert "EndTime" not in cancelling and "FailureCode" not in cancelling
    assert done["BulkOperationStatus"] == "CANCELLED" and done["FailureCode"] and done["EndTime"]
    assert done["ProcessedItemCount"] == 3 and len(scan(ddb)) == 3
    with pytest.raises(ddb.exceptions.ClientError) as again:
        ddb.cancel_bulk_operation(BulkOperationArn=arn)
    assert again.value.response["Error"]["Code"] == "ValidationException"


def test_an_input_object_removed_during_the_operation_fails_it_and_keeps_what_was_written(
    aws: AwsStandIns, ddb: Any, s3: Any
) -> None:
    make_table(ddb)
    put_bulk_input(s3, "in/a.json.gz", [{"Item": item("a1")}, {"Item": item("a2")}])
    put_bulk_input(s3, "in/b.json.gz", [{"Item": item("b1")}])
    aws.bulk.hold.pause_after(2)

    arn = start_bulk(ddb)
    assert aws.bulk.hold.paused.wait(20)
    s3.delete_object(Bucket=BUCKET, Key="in/b.json.gz")
    aws.bulk.hold.resume()
    done = finished_bulk(ddb, arn)

    assert (done["BulkOperationStatus"], done["FailureCode"]) == ("FAILED", "InputS3Error")
    assert "in/b.json.gz" in done["FailureMessage"]
    assert [i["pk"]["S"] for i in scan(ddb)] == ["a1", "a2"]


def _settled(ddb: Any, arn: str) -> int:
    """ProcessedItemCount once it has not moved for half a second (the runner waits for the clock to move)."""
    counts: list[int] = []
    while len(counts) < 10 or len(set(counts[-10:])) > 1:
        counts.append(
            ddb.describe_bulk_operation(BulkOperationArn=arn)["BulkOperationDescription"]["ProcessedItemCount"]
        )
        time.sleep(0.05)
    return counts[-1]


def test_ion_input_lands_like_dynamodb_json_and_an_object_that_is_not_ion_is_refused_whole(ddb: Any, s3: Any) -> None:
    make_table(ddb)
    items = [
        {**item(f"k{n:02d}"), "n": {"N": str(n)}, "tags": {"SS": ["a", "b"]}, "raw": {"B": "AAE="}} for n in range(8)
    ]
    ion_text = b"".join(ion_line({"Item": i}) for i in items)
    s3.put_object(Bucket=BUCKET, Key="ion/part-0.ion.gz", Body=gzip.compress(ion_text))
    s3.put_object(Bucket=BUCKET, Key="ion/part-1.ion.gz", Body=gzip.compress(b"{Item: [unclosed"))

    done = finished_bulk(ddb, start_bulk(ddb, prefix="ion/", InputS3Configuration={
        "S3Bucket": BUCKET, "S3KeyPrefix": "ion/", "InputFormat": "ION", "InputCompressionType": "GZIP"}))  # fmt: skip

    assert done["BulkOperationStatus"] == "COMPLETED_WITH_ERRORS"
    assert (done["ProcessedItemCount"], done["FailedItemCount"]) == (8, 0), "the unreadable object is no item"
    assert [i["pk"]["S"] for i in scan(ddb)] == [f"k{n:02d}" for n in range(8)]
    assert scan(ddb)[3]["tags"] == {"SS": ["a", "b"]} and scan(ddb)[3]["n"] == {"N": "3"}
    (error,) = report(s3, "ERROR")
    assert error["S3Key"] == "ion/part-1.ion.gz" and error["ErrorCode"] == "InvalidInputObject"


class RecordingSink:
    """The benchmark's sink as the stand-in sees it: whatever takes batches of items for a table."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[dict[str, Any]]]] = []

    def write(self, table_name: str, items: list[dict[str, Any]]) -> None:
        self.batches.append((table_name, list(items)))


def test_with_a_sink_unconditional_puts_go_there_in_batches_of_25_and_conditional_ones_to_the_table(
    aws: AwsStandIns, ddb: Any, s3: Any
) -> None:
    make_table(ddb)
    sink = RecordingSink()
    aws.bulk.sink = sink
    plain = [item(f"k{n:02d}") for n in range(60)]
    guarded = {"Item": item("guarded"), "ConditionExpression": "attribute_not_exists(pk)"}
    put_bulk_input(s3, "in/a.json.gz", [{"Item": i} for i in plain[:30]] + [guarded])
    put_bulk_input(s3, "in/b.json.gz", [{"Item": i} for i in plain[30:]])

    done = finished_bulk(ddb, start_bulk(ddb))

    assert done["BulkOperationStatus"] == "COMPLETED"
    assert (done["ProcessedItemCount"], done["FailedItemCount"]) == (61, 0)
    assert [len(items) for _, items in sink.batches] == [25, 25, 10]
    assert {name for name, _ in sink.batches} == {"orders"}
    assert [i for _, items in sink.batches for i in items] == plain, "every unconditional put, once, in order"
    assert scan(ddb) == [item("guarded")], "the conditional put went through the table, which checked it"
