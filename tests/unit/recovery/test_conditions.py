"""Conditions stating an item exactly, within DynamoDB's expression limits; item states compared as DynamoDB does."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.recovery.actions import Outcome, RepairAction, actions_digest, decide
from bot.recovery.conditions import MAX_EXPRESSION_BYTES, NoExactCondition, expect
from bot.recovery.diff import change_between, same_item
from bot.recovery.keys import KeyAttribute, KeySchema
from tests.unit.loader.strategies import other_attributes

SCHEMA = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "S"))
KEY = {"pk": {"S": "a"}, "sk": {"S": "1"}}


def test_no_item_is_stated_by_its_partition_key_missing() -> None:
    condition = expect(None, SCHEMA)
    assert condition.members() == {
        "ConditionExpression": "attribute_not_exists(#k)",
        "ExpressionAttributeNames": {"#k": "pk"},
    }


def test_an_item_of_keys_only_is_stated_by_its_existence() -> None:
    assert expect(KEY, SCHEMA).expression == "attribute_exists(#k)"


def test_each_attribute_but_the_keys_is_compared_with_its_value() -> None:
    item = {**KEY, "price": {"N": "10"}, "tags": {"SS": ["a", "b"]}}
    condition = expect(item, SCHEMA)
    assert condition.expression == "#a0 = :a0 AND #a1 = :a1"
    assert condition.names == {"#a0": "price", "#a1": "tags"}
    assert condition.values == {":a0": {"N": "10"}, ":a1": {"SS": ["a", "b"]}}


def test_150_attributes_fit_the_300_operators_and_151_do_not() -> None:
    fits = {**KEY, **{f"a{n}": {"N": str(n)} for n in range(150)}}
    condition = expect(fits, SCHEMA)
    assert condition.expression.count("=") + condition.expression.count("AND") == 299
    assert len(condition.expression.encode()) <= MAX_EXPRESSION_BYTES
    with pytest.raises(NoExactCondition, match=r"151 attributes besides its key.*301 operators"):
        expect({**fits, "one_more": {"S": "x"}}, SCHEMA)


@given(other_attributes, st.randoms(use_true_random=False))
def test_an_item_respelled_is_the_same_item(attributes: dict[str, Any], rng: random.Random) -> None:
    item = {**KEY, **attributes}
    respelled = {name: _respelled(value, rng) for name, value in reversed(list(item.items()))}
    assert same_item(item, respelled)
    assert change_between(item, respelled).none


@given(other_attributes, st.text(min_size=1, max_size=6))
def test_a_changed_added_or_removed_attribute_is_a_difference(attributes: dict[str, Any], name: str) -> None:
    item = {**KEY, **attributes}
    if name in SCHEMA.names:
        return
    other = dict(item)
    if name in other:
        del other[name]
        assert change_between(item, other).removed == (name,)
    else:
        other[name] = {"S": "new"}
        assert change_between(item, other).added == (name,)
    assert not same_item(item, other)


def test_absent_items_compare_as_dynamodb_sees_them() -> None:
    assert same_item(None, None)
    assert not same_item(None, KEY)
    assert change_between(None, KEY).created and change_between(KEY, None).deleted


def test_the_live_item_decides_each_repair() -> None:
    old, new = {**KEY, "v": {"S": "old"}}, {**KEY, "v": {"S": "new"}}
    action = RepairAction(0, KEY, "pk=a, sk=1", expected=new, target=old)
    assert decide(new, action) == Outcome.WRITE
    assert decide(old, action) == Outcome.UNCHANGED
    assert decide({**KEY, "v": {"S": "later"}}, action) == Outcome.CONFLICT
    assert decide(None, action) == Outcome.CONFLICT
    created = RepairAction(1, KEY, "pk=a, sk=1", expected=new, target=None)
    assert decide(None, created) == Outcome.UNCHANGED
    assert decide(new, created) == Outcome.WRITE


def test_the_digest_covers_every_expected_state_and_target() -> None:
    base = [RepairAction(0, KEY, "k", {**KEY, "v": {"S": "x"}}, None)]
    changed = [RepairAction(0, KEY, "k", {**KEY, "v": {"S": "y"}}, None)]
    reordered_keys = [RepairAction(0, KEY, "k", {"v": {"S": "x"}, **KEY}, None)]
    assert actions_digest(base) != actions_digest(changed)
    assert actions_digest(base) == actions_digest(reordered_keys)


def _respelled(value: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same DynamoDB value written differently: numbers with an exponent, sets and maps reordered."""
    ((kind, inner),) = value.items()
    if kind == "N":
        return {"N": f"{inner}E0" if "E" not in inner.upper() else inner}
    if kind in {"SS", "NS", "BS"}:
        shuffled = copy.copy(inner)
        rng.shuffle(shuffled)
        return {kind: shuffled}
    if kind == "M":
        return {"M": {k: _respelled(v, rng) for k, v in reversed(list(inner.items()))}}
    if kind == "L":
        return {"L": [_respelled(v, rng) for v in inner]}
    return value
