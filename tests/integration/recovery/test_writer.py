"""The conditional writer against moto's server (which evaluates conditions as DynamoDB documents them): repairs land
only on items still as expected; a later change is a conflict, left alone; a replay writes nothing twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.credentials
import pytest

from bot.loader.batch_writer import RetryPolicy
from bot.loader.endpoint import DynamoDbEndpoint
from bot.recovery.actions import Outcome, RepairAction
from bot.recovery.keys import KeyAttribute, KeySchema
from bot.recovery.writer import ConditionalWriter, RepairCancelled, RepairRefused, RepairStalled
from tests.support.aws_world import client, reset_moto

SCHEMA = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))
TABLE = "orders"


def key(n: int) -> dict[str, Any]:
    return {"pk": {"S": f"order#{n}"}, "sk": {"N": str(n)}}


def item(n: int, **values: str) -> dict[str, Any]:
    return {**key(n), **{name: {"S": value} for name, value in values.items()}}


@pytest.fixture
def ddb(moto_server: str) -> Any:
    reset_moto(moto_server)
    ddb = client("dynamodb", moto_server, aws_access_key_id="testing", aws_secret_access_key="testing")
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb


@pytest.fixture
def writer(ddb: Any) -> Iterator[ConditionalWriter]:
    credentials = botocore.credentials.Credentials("testing", "testing")
    endpoint = DynamoDbEndpoint(ddb.meta.endpoint_url, "us-east-1", credentials)
    writer = ConditionalWriter(endpoint, TABLE, SCHEMA, halt=threading.Event())
    yield writer
    writer.close()


def live(ddb: Any, n: int) -> dict[str, Any] | None:
    found = ddb.get_item(TableName=TABLE, Key=key(n), ConsistentRead=True).get("Item")
    return dict(found) if found else None


def test_items_still_as_expected_are_put_back_or_deleted(ddb: Any, writer: ConditionalWriter) -> None:
    ddb.put_item(TableName=TABLE, Item=item(1, v="garbage"))
    ddb.put_item(TableName=TABLE, Item=item(2, v="created by the deploy"))
    actions = [
        RepairAction(0, key(1), "1", expected=item(1, v="garbage"), target=item(1, v="good")),
        RepairAction(1, key(2), "2", expected=item(2, v="created by the deploy"), target=None),
        RepairAction(2, key(3), "3", expected=None, target=item(3, v="deleted by the deploy")),
    ]
    outcomes = writer.apply(actions)
    assert [j.outcome for j in outcomes] == [Outcome.WRITTEN] * 3
    assert live(ddb, 1) == item(1, v="good")
    assert live(ddb, 2) is None
    assert live(ddb, 3) == item(3, v="deleted by the deploy")


def test_a_later_change_is_a_conflict_named_by_attribute_and_left_untouched(
    ddb: Any, writer: ConditionalWriter
) -> None:
    ddb.put_item(TableName=TABLE, Item=item(1, v="fixed by hand", note="ops"))
    action = RepairAction(0, key(1), "1", expected=item(1, v="garbage"), target=item(1, v="good"))
    [judged] = writer.apply([action])
    assert judged.outcome == Outcome.CONFLICT
    assert judged.note == "changed since: note, v"
    assert "fixed" not in judged.note  # names only, never values
    assert live(ddb, 1) == item(1, v="fixed by hand", note="ops")


def test_an_item_already_as_it_should_end_is_unchanged_not_a_conflict(ddb: Any, writer: ConditionalWriter) -> None:
    ddb.put_item(TableName=TABLE, Item=item(1, v="good"))
    actions = [
        RepairAction(0, key(1), "1", expected=item(1, v="garbage"), target=item(1, v="good")),
        RepairAction(1, key(2), "2", expected=item(2, v="created"), target=None),
    ]
    assert [j.outcome for j in writer.apply(actions)] == [Outcome.UNCHANGED, Outcome.UNCHANGED]


def test_a_replayed_batch_writes_nothing_twice(ddb: Any, writer: ConditionalWriter) -> None:
    ddb.put_item(TableName=TABLE, Item=item(1, v="garbage"))
    action = RepairAction(0, key(1), "1", expected=item(1, v="garbage"), target=item(1, v="good"))
    assert writer.apply([action])[0].outcome == Outcome.WRITTEN
    calls_before = writer.stats.calls
    assert writer.apply([action])[0].outcome == Outcome.UNCHANGED
    assert writer.stats.calls == calls_before + 1  # the read only: no write was sent


def test_a_change_between_the_read_and_the_write_is_caught_by_the_condition(
    ddb: Any, writer: ConditionalWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    ddb.put_item(TableName=TABLE, Item=item(1, v="garbage"))
    action = RepairAction(0, key(1), "1", expected=item(1, v="garbage"), target=item(1, v="good"))
    real_read = writer.read

    def read_then_someone_writes(keys: Any) -> Any:
        seen = real_read(keys)
        ddb.put_item(TableName=TABLE, Item=item(1, v="written meanwhile"))
        return seen

    monkeypatch.setattr(writer, "read", read_then_someone_writes)
    [judged] = writer.apply([action])
    assert judged.outcome == Outcome.CONFLICT and judged.note == "changed since: v"
    assert live(ddb, 1) == item(1, v="written meanwhile")


def test_an_attribute_added_between_the_read_and_the_write_is_the_documented_residual_risk(
    ddb: Any, writer: ConditionalWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB has no condition for "no other attributes": an add-only change in the milliseconds between the read
    and the write passes the condition. This test pins the risk the README states, so it cannot grow unnoticed."""
    ddb.put_item(TableName=TABLE, Item=item(1, v="garbage"))
    action = RepairAction(0, key(1), "1", expected=item(1, v="garbage"), target=item(1, v="good"))
    real_read = writer.read

    def read_then_someone_adds(keys: Any) -> Any:
        seen = real_read(keys)
        ddb.put_item(TableName=TABLE, Item=item(1, v="garbage", added="meanwhile"))
        return seen

    monkeypatch.setattr(writer, "read", read_then_someone_adds)
    assert writer.apply([action])[0].outcome == Outcome.WRITTEN
    assert live(ddb, 1) == item(1, v="good")


def test_an_attribute_added_before_the_read_is_a_conflict(ddb: Any, writer: ConditionalWriter) -> None:
    ddb.put_item(TableName=TABLE, Item=item(1, v="garbage", added="later"))
    action = RepairAction(0, key(1), "1", expected=item(1, v="garbage"), target=item(1, v="good"))
    [judged] = writer.apply([action])
    assert judged.outcome == Outcome.CONFLICT and judged.note == "changed since: added"


def test_an_item_too_wide_for_an_exact_condition_is_listed_not_written(ddb: Any, writer: ConditionalWriter) -> None:
    wide = item(1, **{f"a{n}": "x" for n in range(151)})
    ddb.put_item(TableName=TABLE, Item=wide)
    action = RepairAction(0, key(1), "1", expected=wide, target=item(1, v="good"))
    [dry] = writer.dry_run([action])
    [judged] = writer.apply([action])
    assert dry.outcome == judged.outcome == Outcome.UNCHECKABLE
    assert "151 attributes" in judged.note
    assert live(ddb, 1) == wide


def test_a_missing_table_stops_the_repair_saying_so(ddb: Any, writer: ConditionalWriter) -> None:
    ddb.delete_table(TableName=TABLE)
    with pytest.raises(RepairRefused, match="Table orders was not found"):
        writer.apply([RepairAction(0, key(1), "1", expected=None, target=item(1, v="x"))])


def test_an_unreachable_endpoint_stalls_after_the_deadline_and_a_halt_cancels() -> None:
    endpoint = DynamoDbEndpoint("http://127.0.0.1:9", "us-east-1", botocore.credentials.Credentials("a", "b"))
    retry = RetryPolicy(give_up_after_s=0.2, backoff_base_s=0.01, backoff_cap_s=0.02)
    stalled = ConditionalWriter(endpoint, TABLE, SCHEMA, halt=threading.Event(), retry=retry)
    with pytest.raises(RepairStalled, match="reading 1 item"):
        stalled.read([key(1)])
    halted = threading.Event()
    halted.set()
    with pytest.raises(RepairCancelled):
        ConditionalWriter(endpoint, TABLE, SCHEMA, halt=halted).read([key(1)])


def test_boto3_sessions_credentials_work_too(ddb: Any) -> None:
    endpoint = DynamoDbEndpoint.of(
        ddb, boto3.Session(aws_access_key_id="testing", aws_secret_access_key="t").get_credentials()
    )
    writer = ConditionalWriter(endpoint, TABLE, SCHEMA, halt=threading.Event())
    try:
        assert writer.read([key(1)]) == [None]
    finally:
        writer.close()
