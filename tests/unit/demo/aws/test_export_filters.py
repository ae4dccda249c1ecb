"""Filtered exports (FilterSpecification): key condition, filter and projection with AWS's rules, evaluated by moto."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bot.demo.aws.clock import SettableClock
from tests.support.aws_standins import BUCKET, START, export_lines, finished_export, item, make_table


def filtered(ddb: Any, arn: str, spec: dict[str, Any], **request: Any) -> dict[str, Any]:
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, FilterSpecification=spec, **request)
    return finished_export(ddb, started["ExportDescription"]["ExportArn"])


def seeded(ddb: Any) -> str:
    arn = make_table(ddb)
    for pk, sk, state in [("a", "1", "paid"), ("a", "2", "new"), ("a", "3", "paid"), ("b", "1", "paid")]:
        ddb.put_item(TableName="orders", Item=item(pk, sk, state=state))
    return arn


def test_a_key_condition_exports_one_partition_and_a_sort_key_range(ddb: Any, s3: Any) -> None:
    arn = seeded(ddb)
    spec = {
        "KeyConditionExpression": "pk = :p AND sk > :s",
        "ExpressionAttributeValues": {":p": {"S": "a"}, ":s": {"S": "1"}},
    }

    done = filtered(ddb, arn, spec)

    assert [line["Item"] for line in export_lines(s3, BUCKET, done)] == [
        item("a", "2", state="new"),
        item("a", "3", state="paid"),
    ]
    assert done["FilterSpecification"] == spec


def test_a_key_condition_and_a_filter_on_other_attributes_both_apply(ddb: Any, s3: Any) -> None:
    arn = seeded(ddb)
    spec = {
        "KeyConditionExpression": "pk = :p",
        "FilterExpression": "#st = :paid",
        "ExpressionAttributeNames": {"#st": "state"},
        "ExpressionAttributeValues": {":p": {"S": "a"}, ":paid": {"S": "paid"}},
    }

    done = filtered(ddb, arn, spec)

    assert [line["Item"]["sk"]["S"] for line in export_lines(s3, BUCKET, done)] == ["1", "3"]
    assert ddb.describe_export(ExportArn=done["ExportArn"])["ExportDescription"]["FilterSpecification"] == spec


def test_a_filter_may_name_keys_only_without_a_key_condition(ddb: Any, s3: Any) -> None:
    arn = seeded(ddb)
    values = {":p": {"S": "a"}, ":one": {"S": "1"}}

    done = filtered(ddb, arn, {"FilterExpression": "sk = :one", "ExpressionAttributeValues": {":one": {"S": "1"}}})
    with pytest.raises(ClientError) as refused:
        filtered(
            ddb,
            arn,
            {"KeyConditionExpression": "pk = :p", "FilterExpression": "sk = :one", "ExpressionAttributeValues": values},
        )

    assert sorted(line["Item"]["pk"]["S"] for line in export_lines(s3, BUCKET, done)) == ["a", "b"]
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "non-primary key attributes" in refused.value.response["Error"]["Message"]


def test_a_projection_exports_only_the_attributes_it_names_keys_included_only_if_named(ddb: Any, s3: Any) -> None:
    arn = seeded(ddb)

    bare = filtered(ddb, arn, {"ProjectionExpression": "#st", "ExpressionAttributeNames": {"#st": "state"}})
    keyed = filtered(ddb, arn, {"ProjectionExpression": "pk, sk, #st", "ExpressionAttributeNames": {"#st": "state"}})

    assert [line["Item"] for line in export_lines(s3, BUCKET, bare)] == [
        {"state": {"S": s}} for s in ("paid", "new", "paid", "paid")
    ]
    assert export_lines(s3, BUCKET, keyed)[1]["Item"] == item("a", "2", state="new")


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"FilterExpression": "x = :v" + " OR x = :v" * 500, "ExpressionAttributeValues": {":v": {"S": "1"}}}, "4 KB"),
        ({"ProjectionExpression": "pk", "ExpressionAttributeNames": {"#unused": "x"}}, "unused"),
        ({"FilterExpression": "x = :v", "ExpressionAttributeValues": {":v": {"S": "1"}, ":w": {"S": "2"}}}, "unused"),
        (
            {
                "KeyConditionExpression": "pk = :p OR pk = :q",
                "ExpressionAttributeValues": {":p": {"S": "a"}, ":q": {"S": "b"}},
            },
            "",
        ),
        ({"KeyConditionExpression": "state = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}, ""),
        ({"FilterExpression": "x = = :v", "ExpressionAttributeValues": {":v": {"S": "1"}}}, ""),
    ],
)
def test_an_invalid_filter_specification_is_a_validation_error(ddb: Any, spec: dict[str, Any], says: str) -> None:
    arn = seeded(ddb)

    with pytest.raises(ClientError) as refused:
        filtered(ddb, arn, spec)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert says in refused.value.response["Error"]["Message"]


def test_an_incremental_filter_judges_the_new_image_and_a_deleted_items_old_image(
    ddb: Any, s3: Any, clock: SettableClock
) -> None:
    arn = make_table(ddb)
    for key, state in [
        ("stays", "paid"),
        ("leaves", "paid"),
        ("joins", "new"),
        ("gone-paid", "paid"),
        ("gone-new", "new"),
    ]:
        ddb.put_item(TableName="orders", Item=item(key, state=state, note="before"))
    clock.advance(minutes=5)
    ddb.put_item(TableName="orders", Item=item("stays", state="paid", note="after"))
    ddb.put_item(TableName="orders", Item=item("leaves", state="new", note="after"))
    ddb.put_item(TableName="orders", Item=item("joins", state="paid", note="after"))
    ddb.delete_item(TableName="orders", Key=item("gone-paid"))
    ddb.delete_item(TableName="orders", Key=item("gone-new"))
    clock.advance(minutes=30)
    spec = {
        "FilterExpression": "#st = :paid",
        "ProjectionExpression": "#st, note",
        "ExpressionAttributeNames": {"#st": "state"},
        "ExpressionAttributeValues": {":paid": {"S": "paid"}},
    }

    done = filtered(
        ddb,
        arn,
        spec,
        ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification={"ExportFromTime": START + timedelta(minutes=1), "ExportToTime": clock()},
    )

    records = {r["Keys"]["pk"]["S"]: r for r in export_lines(s3, BUCKET, done)}
    assert sorted(records) == ["gone-paid", "joins", "stays"]
    assert records["stays"]["OldImage"] == {"state": {"S": "paid"}, "note": {"S": "before"}}
    assert records["stays"]["NewImage"] == {"state": {"S": "paid"}, "note": {"S": "after"}}
    assert records["joins"]["OldImage"] == {"state": {"S": "new"}, "note": {"S": "before"}}
    assert "NewImage" not in records["gone-paid"] and records["gone-paid"]["Keys"] == item("gone-paid")


def test_scratch_tables_are_never_listed_and_never_left_behind(ddb: Any, s3: Any, moto_ddb: Any) -> None:
    arn = seeded(ddb)

    filtered(ddb, arn, {"ProjectionExpression": "pk", "FilterExpression": "attribute_exists(sk)"})
    with pytest.raises(ClientError):
        filtered(ddb, arn, {"FilterExpression": "x = = 1"})

    assert ddb.list_tables()["TableNames"] == ["orders"]
    assert moto_ddb.list_tables()["TableNames"] == ["orders"]
