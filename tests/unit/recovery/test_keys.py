"""Item keys as people write them, typed by the table's key schema."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UsageError
from bot.recovery.keys import ItemKey, KeyAttribute, KeySchema, parse_item_key
from tests.unit.loader.strategies import number_values, spellings

ORDERS = KeySchema(KeyAttribute("orderId", "S"), KeyAttribute("line", "N"))
BLOBS = KeySchema(KeyAttribute("id", "B"))


def test_the_schema_comes_from_describe_table() -> None:
    description = {
        "KeySchema": [{"AttributeName": "line", "KeyType": "RANGE"}, {"AttributeName": "orderId", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "orderId", "AttributeType": "S"},
            {"AttributeName": "line", "AttributeType": "N"},
        ],
    }
    assert KeySchema.of_table(description) == ORDERS
    assert ORDERS.names == ("orderId", "line")
    assert KeySchema.from_dict(ORDERS.as_dict()) == ORDERS


def test_a_full_key_names_one_item_typed_as_declared() -> None:
    key = parse_item_key([("orderId", "A-1001"), ("line", "3.0")], ORDERS)
    assert key.as_key() == {"orderId": {"S": "A-1001"}, "line": {"N": "3"}}
    assert not key.whole_partition
    assert key.text == "orderId=A-1001, line=3"
    assert key.key_condition() == {
        "KeyConditionExpression": "#k0 = :k0 AND #k1 = :k1",
        "ExpressionAttributeNames": {"#k0": "orderId", "#k1": "line"},
        "ExpressionAttributeValues": {":k0": {"S": "A-1001"}, ":k1": {"N": "3"}},
    }
    assert ItemKey.from_dict(key.as_dict()) == key


def test_without_the_sort_key_the_key_names_the_whole_partition() -> None:
    key = parse_item_key([("orderId", "A-1001")], ORDERS)
    assert key.whole_partition
    assert key.text == "orderId=A-1001 (the whole partition)"
    assert key.key_condition()["KeyConditionExpression"] == "#k0 = :k0"
    assert key.matches({"orderId": {"S": "A-1001"}, "line": {"N": "7"}})
    assert not key.matches({"orderId": {"S": "A-1002"}, "line": {"N": "7"}})


@given(number_values().flatmap(lambda value: st.tuples(spellings(value), spellings(value))))
def test_every_spelling_of_a_number_names_the_same_item(texts: tuple[str, str]) -> None:
    first = parse_item_key([("orderId", "A"), ("line", texts[0])], ORDERS)
    second = parse_item_key([("orderId", "A"), ("line", texts[1])], ORDERS)
    assert first == second
    assert first.matches({"orderId": {"S": "A"}, "line": {"N": texts[1]}})


def test_binary_keys_are_base64_and_compared_as_bytes() -> None:
    key = parse_item_key([("id", "AQI=")], BLOBS)
    assert key.as_key() == {"id": {"B": "AQI="}}
    assert key.matches({"id": {"B": b"\x01\x02"}})
    assert not key.matches({"id": {"B": b"\x01\x03"}})


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([("line", "3")], "Give the partition key `orderId=`; this table's key is orderId (S), line (N)"),
        ([("order", "A"), ("line", "3")], "`order` is not a key attribute of this table"),
        ([("orderId", "A"), ("orderId", "B")], "`orderId=` is given twice"),
        ([("orderId", "A"), ("line", "three")], "`line=` must be a number"),
        ([("orderId", "A"), ("line", "1" * 39)], "39 significant digits"),
        ([("orderId", "x" * 2049)], "1 to 2048 bytes"),
    ],
)
def test_a_bad_key_says_what_is_wrong_and_names_the_schema(parts: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_item_key(parts, ORDERS, "usage")
    assert message in raised.value.message
    assert raised.value.usage == "usage"


def test_a_binary_key_that_is_not_base64_is_refused() -> None:
    with pytest.raises(UsageError, match="must be base64"):
        parse_item_key([("id", "not base64!")], BLOBS)


def test_key_text_shows_keys_only() -> None:
    item = {"orderId": {"S": "A-1"}, "line": {"N": "2"}, "secret": {"S": "card number"}}
    assert ORDERS.key_text(item) == "orderId=A-1, line=2"
    assert "card" not in ORDERS.key_text(item)
