"""Bulk put requests AWS refuses (validation, table state, global tables, quotas), idempotency, listing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bot.demo.aws.bulk import BulkChoices, BulkQuotas
from bot.demo.aws.clock import SettableClock
from bot.demo.aws.standins import AwsStandIns
from tests.support.aws_standins import (
    BUCKET,
    TESTING,
    finished_bulk,
    item,
    make_table,
    put_bulk_input,
    running_standins,
    standin_client,
    start_bulk,
)
from tests.support.aws_world import client

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def code_of(call: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    return str(refused.value.response["Error"]["Code"])


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"MaxWriteRequestUnits": 1000}, "maxWriteRequestUnits"),
        ({"ClientToken": "has$dollar"}, "clientToken"),
        ({"InputS3Configuration": {"S3Bucket": BUCKET, "InputFormat": "CSV"}}, "inputFormat"),
        (
            {"InputS3Configuration": {"S3Bucket": BUCKET, "InputFormat": "DYNAMODB_JSON", "S3BucketOwner": "12"}},
            "s3BucketOwner",
        ),
        (
            {
                "InputS3Configuration": {
                    "S3Bucket": BUCKET,
                    "InputFormat": "DYNAMODB_JSON",
                    "InputCompressionType": "ZSTD",
                }
            },
            "zstandard",
        ),
        ({"OutputS3Configuration": {"OutputType": ["ERROR"]}}, "S3Bucket is required"),
        ({"OutputS3Configuration": {"S3Bucket": BUCKET, "OutputType": ["EVERYTHING"]}}, "outputType"),
        ({"OutputS3Configuration": {"S3Bucket": BUCKET, "OutputType": ["ERROR"], "S3SseKmsKeyId": "k"}}, "KMS"),
        ({"TableName": None}, "tableName"),
    ],
)
def test_an_invalid_request_is_a_validation_error_naming_the_member(
    aws: AwsStandIns, ddb: Any, s3: Any, change: dict[str, Any], says: str
) -> None:
    make_table(ddb)
    unchecked = client("dynamodb", aws.url, config=Config(parameter_validation=False), **TESTING)

    with pytest.raises(ClientError) as refused:
        start_bulk(unchecked, **change)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert says in refused.value.response["Error"]["Message"]
    assert aws.bulk.operations() == []


def test_the_table_must_exist_be_available_and_not_be_global(aws: AwsStandIns, ddb: Any, s3: Any) -> None:
    make_table(ddb)
    make_table(ddb, "replicated")
    aws.bulk.global_tables.add("replicated")
    aws.bulk.busy_tables["busy"] = "a global secondary index is being created"
    make_table(ddb, "busy")

    assert code_of(lambda: start_bulk(ddb, table="missing")) == "ResourceNotFoundException"
    assert code_of(lambda: start_bulk(ddb, table="replicated")) == "ValidationException"
    assert code_of(lambda: start_bulk(ddb, table="busy")) == "ResourceInUseException"
    assert (
        finished_bulk(ddb, start_bulk(ddb, table=make_table(ddb, "by-arn")))["TableDetails"][0]["TableName"] == "by-arn"
    )


def test_a_client_token_returns_the_same_operation_and_refuses_other_parameters(
    aws: AwsStandIns, ddb: Any, s3: Any, clock: SettableClock
) -> None:
    make_table(ddb)
    put_bulk_input(s3, "in/a.json.gz", [{"Item": item("a")}])

    first = start_bulk(ddb, ClientToken="restore-42")
    finished_bulk(ddb, first)
    again = start_bulk(ddb, ClientToken="restore-42")
    mismatch = code_of(lambda: start_bulk(ddb, ClientToken="restore-42", MaxWriteRequestUnits=2048))
    clock.advance(hours=8)
    later = start_bulk(ddb, ClientToken="restore-42")

    assert again == first and later != first
    assert mismatch == "IdempotentParameterMismatchException"
    assert len(aws.bulk.operations()) == 2


@pytest.fixture
def tight(moto_server: str, clock: SettableClock) -> Iterator[AwsStandIns]:
    quotas = BulkQuotas(max_input_objects=2, max_object_bytes=200, active_per_table=1, active_per_account=2)
    with running_standins(moto_server, clock, bulk_quotas=quotas) as standins:
        standin_client("s3", standins).create_bucket(Bucket=BUCKET)
        yield standins


def test_quotas_on_input_objects_and_operations_in_progress_are_limit_errors(tight: AwsStandIns) -> None:
    ddb = standin_client("dynamodb", tight, config=NO_RETRIES, **TESTING)  # botocore retries LimitExceeded
    s3 = standin_client("s3", tight)
    for name in ("t1", "t2", "t3"):
        make_table(ddb, name)
    for n in range(3):
        put_bulk_input(s3, f"three/{n}.json.gz", [{"Item": item(str(n))}])
    put_bulk_input(s3, "big/0.json", [{"Item": item("x", blob="y" * 300)}], compress=False)
    put_bulk_input(s3, "ok/0.json.gz", [{"Item": item("ok")}])

    assert code_of(lambda: start_bulk(ddb, table="t1", prefix="three/")) == "LimitExceededException"
    assert code_of(lambda: start_bulk(ddb, table="t1", prefix="big/")) == "LimitExceededException"
    tight.bulk.hold.pause_after(0)
    held = [start_bulk(ddb, table="t1", prefix="ok/")]
    per_table = code_of(lambda: start_bulk(ddb, table="t1", prefix="ok/"))  # the account has room for one more
    held.append(start_bulk(ddb, table="t2", prefix="ok/"))
    per_account = code_of(lambda: start_bulk(ddb, table="t3", prefix="ok/"))
    tight.bulk.hold.resume()

    assert (per_table, per_account) == ("LimitExceededException", "LimitExceededException")
    assert [finished_bulk(ddb, arn)["BulkOperationStatus"] for arn in held] == ["COMPLETED", "COMPLETED"]
    assert finished_bulk(ddb, start_bulk(ddb, table="t1", prefix="ok/"))["BulkOperationStatus"] == "COMPLETED"


def test_operations_are_listed_most_recent_first_per_account_in_pages(
    aws: AwsStandIns, ddb: Any, s3: Any, clock: SettableClock
) -> None:
    make_table(ddb)
    put_bulk_input(s3, "in/a.json.gz", [{"Item": item("a")}])
    arns = []
    for _ in range(3):
        arns.append(start_bulk(ddb))
        finished_bulk(ddb, arns[-1])
        clock.advance(minutes=1)

    first = ddb.list_bulk_operations(MaxResults=2)
    second = ddb.list_bulk_operations(MaxResults=2, NextToken=first["NextToken"])
    other = _other_account(aws).list_bulk_operations()

    listed = first["BulkOperationsSummaryList"] + second["BulkOperationsSummaryList"]
    assert [s["BulkOperationArn"] for s in listed] == arns[::-1] and "NextToken" not in second
    assert all(s["BulkOperationStatus"] == "COMPLETED" and s["EndTime"] for s in listed)
    assert other["BulkOperationsSummaryList"] == []
    missing = arns[0][:-8] + "00000000"
    assert code_of(lambda: ddb.describe_bulk_operation(BulkOperationArn=missing)) == "ResourceNotFoundException"
    assert code_of(lambda: _other_account(aws).describe_bulk_operation(BulkOperationArn=arns[0])) == (
        "ResourceNotFoundException"
    )


def test_with_the_finished_cancel_choice_a_finished_operation_answers_its_status(
    moto_server: str, clock: SettableClock
) -> None:
    with running_standins(moto_server, clock, bulk_choices=BulkChoices(cancel_finished="status")) as aws:
        ddb, s3 = standin_client("dynamodb", aws), standin_client("s3", aws)
        s3.create_bucket(Bucket=BUCKET)
        make_table(ddb)
        put_bulk_input(s3, "in/a.json.gz", [{"Item": item("a")}])
        arn = start_bulk(ddb)
        finished_bulk(ddb, arn)

        assert ddb.cancel_bulk_operation(BulkOperationArn=arn)["BulkOperationStatus"] == "COMPLETED"


def test_bulk_writes_stay_out_of_the_history_when_chosen_so(moto_server: str, clock: SettableClock) -> None:
    with running_standins(moto_server, clock, bulk_choices=BulkChoices(record_in_history=False)) as aws:
        ddb, s3 = standin_client("dynamodb", aws), standin_client("s3", aws)
        s3.create_bucket(Bucket=BUCKET)
        make_table(ddb)
        put_bulk_input(s3, "in/a.json.gz", [{"Item": item("a")}])
        finished_bulk(ddb, start_bulk(ddb))

        assert ddb.scan(TableName="orders")["Items"] == [item("a")]
        assert aws.items_at("orders", clock() + timedelta(seconds=1)) == []


def _other_account(aws: AwsStandIns) -> Any:
    sts = standin_client("sts", aws)
    creds = sts.assume_role(RoleArn="arn:aws:iam::222222222222:role/reader", RoleSessionName="tests")["Credentials"]
    return standin_client(
        "dynamodb",
        aws,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
