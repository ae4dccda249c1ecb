"""The history: every write moto accepted through the front, at the stand-in clock's time, and nothing else."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.demo.aws.clock import SettableClock
from bot.demo.aws.front import DynamoDbCall, DynamoDbFront
from bot.demo.aws.standins import AwsStandIns, start_standins
from tests.support.aws_standins import START, TESTING, item, make_table, standin_client, write_item
from tests.support.aws_world import client, reset_moto


def keyed(items: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(i, sort_keys=True) for i in items)


def test_every_kind_of_write_is_recorded_at_the_clock_time(aws: AwsStandIns, ddb: Any, clock: SettableClock) -> None:
    make_table(ddb)
    ddb.put_item(TableName="orders", Item=item("a", note="first"))
    t1 = clock.advance(minutes=1)
    ddb.update_item(
        TableName="orders",
        Key=item("a"),
        UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "second"}},
    )
    t2 = clock.advance(minutes=1)
    ddb.batch_write_item(
        RequestItems={"orders": [{"PutRequest": {"Item": item("b")}}, {"DeleteRequest": {"Key": item("a")}}]}
    )
    t3 = clock.advance(minutes=1)
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "orders", "Item": item("c")}},
            {"Update": {"TableName": "orders", "Key": item("b"), "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "7"}}}},
        ]
    )  # fmt: skip
    t4 = clock.advance(minutes=1)
    ddb.delete_item(TableName="orders", Key=item("c"))

    assert aws.items_at("orders", START) == [item("a", note="first")]
    assert aws.items_at("orders", t1) == [item("a", note="second")]
    assert aws.items_at("orders", t2) == [item("b")]
    assert keyed(aws.items_at("orders", t3)) == keyed([{**item("b"), "n": {"N": "7"}}, item("c")])
    assert aws.items_at("orders", t4) == [{**item("b"), "n": {"N": "7"}}]
    assert aws.items_at("orders", t4 - timedelta(microseconds=1)) == aws.items_at("orders", t3)


def test_a_refused_conditional_write_is_passed_on_and_not_recorded(
    aws: AwsStandIns, ddb: Any, clock: SettableClock
) -> None:
    make_table(ddb)
    ddb.put_item(TableName="orders", Item=item("a", note="kept"))
    clock.advance(minutes=1)

    with pytest.raises(ClientError) as refused:
        ddb.put_item(TableName="orders", Item=item("a", note="lost"), ConditionExpression="attribute_not_exists(pk)")

    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert aws.items_at("orders", clock()) == [item("a", note="kept")]
    assert len(aws.timeline("orders").changes()) == 1


@pytest.fixture
def half_processing_moto(moto_server: str) -> Iterator[DynamoDbFront]:
    """A front before moto that writes only the first request of each BatchWriteItem table and returns the rest as
    UnprocessedItems, as DynamoDB does under throttling (moto never does)."""
    reset_moto(moto_server)
    with DynamoDbFront(moto_server) as inner:

        def half(call: DynamoDbCall) -> dict[str, Any]:
            requests = call.body["RequestItems"]
            inner.call_moto(call.caller, "BatchWriteItem", {"RequestItems": {t: r[:1] for t, r in requests.items()}})
            return {"UnprocessedItems": {t: r[1:] for t, r in requests.items() if r[1:]}}

        inner.handle("BatchWriteItem", half)
        yield inner


def test_items_left_unprocessed_by_a_batch_are_not_recorded(half_processing_moto: DynamoDbFront) -> None:
    with start_standins(half_processing_moto.url, clock=SettableClock(START)) as aws:
        ddb = standin_client("dynamodb", aws)
        make_table(ddb)
        answer = ddb.batch_write_item(
            RequestItems={"orders": [{"PutRequest": {"Item": item(k)}} for k in ("a", "b", "c")]}
        )

        assert answer["UnprocessedItems"] == {"orders": [{"PutRequest": {"Item": item(k)}} for k in ("b", "c")]}
        assert aws.items_at("orders", START) == [item("a")]


def test_a_write_earlier_than_the_last_recorded_one_is_refused_and_not_applied(
    aws: AwsStandIns, ddb: Any, clock: SettableClock
) -> None:
    make_table(ddb)
    clock.advance(hours=1)
    ddb.put_item(TableName="orders", Item=item("a"))
    clock.set(START + timedelta(minutes=30))

    with pytest.raises(ClientError) as refused:
        ddb.put_item(TableName="orders", Item=item("b"))

    assert refused.value.response["Error"]["Code"] == "InternalServerError"
    assert "before the last recorded write" in refused.value.response["Error"]["Message"]
    assert client("dynamodb", aws.front.upstream, **TESTING).scan(TableName="orders")["Items"] == [item("a")]


def test_items_written_behind_the_fronts_back_are_adopted_when_it_first_meets_the_table(
    aws: AwsStandIns, clock: SettableClock
) -> None:
    moto = client("dynamodb", aws.front.upstream, **TESTING)
    make_table(moto, pitr=False)
    moto.put_item(TableName="orders", Item=item("old"))
    clock.advance(minutes=10)

    standin_client("dynamodb", aws).put_item(TableName="orders", Item=item("new"))

    assert keyed(aws.items_at("orders", clock())) == keyed([item("old"), item("new")])
    assert aws.items_at("orders", START) == []  # the front learned of "old" only when it met the table


def test_a_recreated_table_starts_a_new_history(aws: AwsStandIns, ddb: Any, clock: SettableClock) -> None:
    make_table(ddb)
    ddb.put_item(TableName="orders", Item=item("gone"))
    clock.advance(minutes=1)
    ddb.delete_table(TableName="orders")
    clock.advance(minutes=1)
    make_table(ddb)
    ddb.put_item(TableName="orders", Item=item("new"))

    assert aws.items_at("orders", clock()) == [item("new")]
    assert aws.items_at("orders", START) == []


KEYS = st.sampled_from(["a", "b", "c", "d"])
VALUES = st.sampled_from(["1", "2", "3"])
WRITES = st.one_of(
    st.tuples(st.just("put"), KEYS, VALUES),
    st.tuples(st.just("put_if_absent"), KEYS, VALUES),
    st.tuples(st.just("update"), KEYS, VALUES),
    st.tuples(st.just("delete"), KEYS, VALUES),
    st.tuples(st.just("batch"), st.lists(st.tuples(KEYS, st.booleans()), min_size=1, max_size=4), VALUES),
    st.tuples(st.just("transact"), st.lists(st.tuples(KEYS, st.booleans()), min_size=1, max_size=4), VALUES),
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.lists(st.tuples(WRITES, st.integers(0, 3)), max_size=12))
def test_the_live_table_always_equals_the_latest_state_of_its_history(
    aws: AwsStandIns, ddb: Any, moto_ddb: Any, clock: SettableClock, writes: list[tuple[tuple[str, Any, str], int]]
) -> None:
    table = f"t{uuid.uuid4().hex[:12]}"
    make_table(ddb, table, pitr=False)
    for (kind, target, value), seconds in writes:
        clock.advance(seconds=seconds)
        _write(ddb, table, kind, target, value)
        moto_items = moto_ddb.scan(TableName=table)["Items"]
        assert keyed(aws.items_at(table, clock())) == keyed(moto_items)


def _write(ddb: Any, table: str, kind: str, target: Any, value: str) -> None:
    if kind in {"batch", "transact"}:
        unique = dict(target)  # one request per key, as both APIs require
        if kind == "batch":
            requests = [
                {"PutRequest": {"Item": item(k, v=value)}} if put else {"DeleteRequest": {"Key": item(k)}}
                for k, put in unique.items()
            ]
            ddb.batch_write_item(RequestItems={table: requests})
        else:
            actions = [
                {"Put": {"TableName": table, "Item": item(k, v=value)}}
                if put
                else {"Delete": {"TableName": table, "Key": item(k)}}
                for k, put in unique.items()
            ]
            ddb.transact_write_items(TransactItems=actions)
    elif kind == "put_if_absent":
        with contextlib.suppress(ddb.exceptions.ConditionalCheckFailedException):  # refused: must not be recorded
            ddb.put_item(TableName=table, Item=item(target, v=value), ConditionExpression="attribute_not_exists(pk)")
    else:
        write_item(ddb, table, kind, target, value)
