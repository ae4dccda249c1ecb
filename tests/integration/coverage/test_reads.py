"""The survey's lean reads (bot/coverage/reads.py) answer as botocore's do for a table DynamoDB describes, through
the same endpoint and credentials; anything else (an error, a throttle, an answer that is not DynamoDB's) is None,
so the survey asks botocore again (tests/integration/coverage/test_coverage.py shows the rows that follow)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from bot.aws.accounts import AwsAccounts, Place
from bot.aws.table_info import describe_pitr, describe_table
from bot.aws.tables import TableRef
from bot.coverage.reads import LeanReads
from tests.support.aws_proxy import AwsFaultProxy, Fault
from tests.support.aws_world import create_table

PLACE = Place(None, "us-east-1")


@pytest.fixture
def front(world: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsFaultProxy]:
    proxy = AwsFaultProxy(world, lambda _operation, _body: None)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
    yield proxy
    proxy.close()


@pytest.fixture
def reads(front: AwsFaultProxy) -> Iterator[LeanReads]:
    made = LeanReads(AwsAccounts(boto3.Session(region_name="us-east-1"), {}))
    yield made
    made.close()


def test_a_described_table_reads_as_botocore_reads_it_through_the_same_endpoint(
    reads: LeanReads, front: AwsFaultProxy, ddb: Any
) -> None:
    create_table(ddb, "with-pitr", pitr=True, items=[])
    create_table(ddb, "no-pitr", pitr=False, items=[])
    ddb.update_table(TableName="no-pitr", DeletionProtectionEnabled=True)
    client = reads.aws.dynamodb(PLACE)
    for name in ("with-pitr", "no-pitr"):
        ref = TableRef(name)
        front.seen.clear()
        lean = reads.describe(ref, PLACE)
        assert front.seen == ["DescribeTable", "DescribeContinuousBackups"], "both reads, through the same endpoint"
        botocore = describe_table(client, ref, PLACE), describe_pitr(client, ref, PLACE)
        assert lean is not None
        assert (lean[0].arn, lean[0].name, lean[0].status) == (botocore[0].arn, name, botocore[0].status)
        protected = lean[0].snapshot.get("DeletionProtectionEnabled")
        assert protected == botocore[0].snapshot.get("DeletionProtectionEnabled") == (name == "no-pitr")
        assert lean[1] == botocore[1], "the PITR window, its times included"
    assert reads.describe(TableRef("with-pitr"), PLACE) is not None


@pytest.mark.parametrize(
    ("operation", "fault"),
    [
        ("DescribeTable", Fault(400, "ResourceNotFoundException", "Requested resource not found")),
        ("DescribeContinuousBackups", Fault(400, "ThrottlingException", "Rate of requests exceeds the allowed")),
        ("DescribeTable", Fault(200, "NotADynamoDbAnswer", "a proxy's page")),
        ("DescribeContinuousBackups", Fault(500, "InternalServerError", "try again")),
    ],
)
def test_anything_but_a_plain_success_is_left_to_botocore(
    reads: LeanReads, front: AwsFaultProxy, ddb: Any, operation: str, fault: Fault
) -> None:
    create_table(ddb, "with-pitr", pitr=True, items=[])
    front.decide = lambda asked, _body: fault if asked == operation else None
    assert reads.describe(TableRef("with-pitr"), PLACE) is None
    front.decide = lambda _asked, _body: None
    assert reads.describe(TableRef("with-pitr"), PLACE) is not None, "the next read of it is lean again"
    assert reads.describe(TableRef("missing"), PLACE) is None, "a table DynamoDB does not know"
