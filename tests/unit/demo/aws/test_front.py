"""The front: what it does not answer reaches moto unchanged; what a stand-in answers reaches boto3 as AWS would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bot.demo.aws.front import Answer, AwsError, DynamoDbCall, DynamoDbFront, IncomingRequest
from bot.demo.aws.standins import AwsStandIns
from tests.support.aws_standins import BUCKET, TESTING, item, make_table, standin_client
from tests.support.aws_world import client, reset_moto

NO_RETRIES = Config(retries={"total_max_attempts": 1})


@pytest.fixture
def front(moto_server: str) -> Iterator[DynamoDbFront]:
    reset_moto(moto_server)
    with DynamoDbFront(moto_server) as made:
        yield made


def test_s3_requests_pass_through_to_moto_unchanged(aws: AwsStandIns, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="a/b.bin", Body=b"\x00" * 1500)

    assert s3.head_object(Bucket=BUCKET, Key="a/b.bin")["ContentLength"] == 1500
    assert s3.get_object(Bucket=BUCKET, Key="a/b.bin")["Body"].read() == b"\x00" * 1500
    s3.delete_object(Bucket=BUCKET, Key="a/b.bin")
    assert client("s3", aws.front.upstream, **TESTING).list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_dynamodb_operations_without_a_stand_in_reach_moto(ddb: Any, aws: AwsStandIns) -> None:
    make_table(ddb, pitr=False)
    ddb.put_item(TableName="orders", Item=item("a"))

    moto = client("dynamodb", aws.front.upstream, **TESTING)
    assert moto.get_item(TableName="orders", Key=item("a"))["Item"] == item("a")
    assert (
        ddb.describe_table(TableName="orders")["Table"]["ItemCount"]
        == moto.describe_table(TableName="orders")["Table"]["ItemCount"]
    )
    with pytest.raises(ClientError) as refused:
        ddb.get_item(TableName="missing", Key=item("a"))
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_stand_in_error_reaches_boto3_with_its_aws_code(front: DynamoDbFront) -> None:
    def refuse(call: DynamoDbCall) -> dict[str, Any]:
        raise AwsError("LimitExceededException", f"too many for {call.body['TableName']}")

    front.handle("DescribeTable", refuse)
    with pytest.raises(ClientError) as refused:
        client("dynamodb", front.url, config=NO_RETRIES, **TESTING).describe_table(TableName="orders")

    assert refused.value.response["Error"] == {"Code": "LimitExceededException", "Message": "too many for orders"}
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_stand_in_answer_reaches_boto3_instead_of_motos(front: DynamoDbFront) -> None:
    front.handle("DescribeLimits", lambda call: {"TableMaxReadCapacityUnits": 7, "TableMaxWriteCapacityUnits": 8})

    limits = client("dynamodb", front.url, **TESTING).describe_limits()

    assert (limits["TableMaxReadCapacityUnits"], limits["TableMaxWriteCapacityUnits"]) == (7, 8)


def test_a_stand_in_defect_is_an_internal_server_error_naming_the_cause(front: DynamoDbFront) -> None:
    def broken(call: DynamoDbCall) -> dict[str, Any]:
        raise RuntimeError("bug in a stand-in")

    front.handle("ListTables", broken)
    with pytest.raises(ClientError) as refused:
        client("dynamodb", front.url, config=NO_RETRIES, **TESTING).list_tables()

    assert refused.value.response["Error"]["Code"] == "InternalServerError"
    assert "bug in a stand-in" in refused.value.response["Error"]["Message"]


def test_a_gate_answers_before_handlers_and_moto(front: DynamoDbFront) -> None:
    seen: list[str] = []

    def gate(request: IncomingRequest) -> Answer | None:
        seen.append(request.operation)
        if request.operation == "ListTables":
            return Answer.of_json({"TableNames": ["from-the-gate"]})
        return None

    front.add_gate(gate)
    ddb = client("dynamodb", front.url, **TESTING)

    assert ddb.list_tables()["TableNames"] == ["from-the-gate"]
    ddb.describe_limits()
    assert seen == ["ListTables", "DescribeLimits"]


def test_stand_ins_act_in_the_callers_account(aws: AwsStandIns) -> None:
    sts = standin_client("sts", aws)
    creds = sts.assume_role(RoleArn="arn:aws:iam::222222222222:role/writer", RoleSessionName="tests")["Credentials"]
    other = standin_client(
        "dynamodb",
        aws,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    arn = make_table(other)
    other.put_item(TableName="orders", Item=item("a"))

    assert arn.split(":")[4] == "222222222222"
    description = other.describe_continuous_backups(TableName="orders")["ContinuousBackupsDescription"]
    assert description["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    with pytest.raises(ClientError) as refused:  # the default account has no such table
        standin_client("dynamodb", aws).describe_continuous_backups(TableName="orders")
    assert refused.value.response["Error"]["Code"] == "TableNotFoundException"
