"""The ClientToken stand-in (tests/support/client_tokens.py) answers as AWS documents: a repeated token with the same
parameters returns the export or import already started, a repeated token with other parameters is refused; and
without it moto starts a second one (which is why the crash tests need it)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.aws_world import order_items
from tests.support.client_tokens import client_tokens_honoured
from tests.support.export_fixtures import write_full_export

BUCKET = "acme-ddb-backups"


def export_request(ddb: Any, token: str, prefix: str = "tokens") -> dict[str, Any]:
    arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
    return {"TableArn": arn, "S3Bucket": BUCKET, "S3Prefix": prefix, "ClientToken": token}


def import_request(token: str, prefix: str, table: str) -> dict[str, Any]:
    return {
        "ClientToken": token,
        "S3BucketSource": {"S3Bucket": BUCKET, "S3KeyPrefix": prefix},
        "InputFormat": "DYNAMODB_JSON",
        "InputCompressionType": "GZIP",
        "TableCreationParameters": {
            "TableName": table,
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    }


def test_an_export_asked_again_with_its_token_is_the_same_export_and_other_parameters_are_refused(ddb: Any) -> None:
    arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
    with client_tokens_honoured() as ledger:
        first = ddb.export_table_to_point_in_time(**export_request(ddb, "t-1"))["ExportDescription"]
        again = ddb.export_table_to_point_in_time(**export_request(ddb, "t-1"))["ExportDescription"]
        assert again["ExportArn"] == first["ExportArn"]
        with pytest.raises(ClientError) as refused:
            ddb.export_table_to_point_in_time(**export_request(ddb, "t-1", prefix="elsewhere"))
        assert refused.value.response["Error"]["Code"] == "ExportConflictException"
        ddb.export_table_to_point_in_time(**export_request(ddb, "t-2"))
    assert ledger.started["export"] == 2
    assert len(ddb.list_exports(TableArn=arn)["ExportSummaries"]) == 2


def test_without_the_stand_in_moto_starts_a_second_export_for_the_same_token(ddb: Any) -> None:
    arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
    ddb.export_table_to_point_in_time(**export_request(ddb, "t-1"))
    ddb.export_table_to_point_in_time(**export_request(ddb, "t-1"))
    assert len(ddb.list_exports(TableArn=arn)["ExportSummaries"]) == 2


def test_an_import_asked_again_with_its_token_is_the_same_import(ddb: Any, s3: Any) -> None:
    location = write_full_export(s3, BUCKET, "imports", order_items(3), files=1, empty_files=0)
    prefix = location.folder + "data/"
    with client_tokens_honoured() as ledger:
        first = ddb.import_table(**import_request("i-1", prefix, "orders-copy"))["ImportTableDescription"]
        again = ddb.import_table(**import_request("i-1", prefix, "orders-copy"))["ImportTableDescription"]
        with pytest.raises(ClientError) as refused:
            ddb.import_table(**import_request("i-1", prefix, "orders-other"))
    assert again["ImportArn"] == first["ImportArn"] and ledger.started["import"] == 1
    assert refused.value.response["Error"]["Code"] == "ImportConflictException"
    assert ddb.scan(TableName="orders-copy")["Count"] == 3
