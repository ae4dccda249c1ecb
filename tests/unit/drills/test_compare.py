"""The drill compares an export's items with what the table gives back the way DynamoDB compares values: every type,
numbers by value, binary as bytes, sets and maps without order; and the sample comparison names each item that
differs, by key and attribute (against a stand-in table that answers BatchGetItem)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.drills.readback import compare_sample
from bot.loader.compare import canonical, item_differences
from tests.support.export_fixtures import decoded, sample_items
from tests.unit.loader.strategies import attribute_values, number_values, spellings, value_of

items = st.dictionaries(st.text(min_size=1, max_size=6), attribute_values, min_size=1, max_size=5)


@given(item=items)
def test_an_item_equals_itself_as_the_low_level_client_returns_it(item: dict[str, Any]) -> None:
    assert item_differences(item, decoded(item)) == []


@given(value=number_values(), data=st.data())
def test_every_spelling_of_a_number_is_the_same_value(value: tuple[int, str, int], data: st.DataObject) -> None:
    first, second = data.draw(spellings(value)), data.draw(spellings(value))
    assert canonical({"N": first}) == canonical({"N": second})
    assert canonical({"NS": [first, "7"]}) == canonical({"NS": ["7", second]})


@given(a=number_values().flatmap(spellings), b=number_values().flatmap(spellings))
def test_numbers_of_different_value_differ(a: str, b: str) -> None:
    assume(value_of(a) != value_of(b))
    assert canonical({"N": a}) != canonical({"N": b})


@given(item=items, data=st.data())
def test_changing_one_attribute_is_named_and_nothing_else(item: dict[str, Any], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(item)))
    other = data.draw(attribute_values)
    assume(canonical(other) != canonical(item[name]))
    restored = decoded({**item, name: other})
    assert item_differences(item, restored) == [name]
    assert item_differences(item, {k: v for k, v in decoded(item).items() if k != name}) == [name]
    assert item_differences(item, None) == ["(missing)"]


def test_types_never_equal_each_other_and_sets_and_maps_have_no_order() -> None:
    assert canonical({"S": "1"}) != canonical({"N": "1"})
    assert canonical({"SS": ["a"]}) != canonical({"L": [{"S": "a"}]})
    assert canonical({"B": "AQI="}) == canonical({"B": b"\x01\x02"}) != canonical({"S": "AQI="})
    assert canonical({"NULL": True}) != canonical({"BOOL": True})
    assert canonical({"SS": ["b", "a"]}) == canonical({"SS": ["a", "b"]})
    assert canonical({"M": {"x": {"N": "1E+2"}, "y": {"S": "z"}}}) == canonical(
        {"M": {"y": {"S": "z"}, "x": {"N": "100"}}}
    )
    assert canonical({"L": [{"S": "a"}, {"S": "b"}]}) != canonical({"L": [{"S": "b"}, {"S": "a"}]})


def test_escaped_and_unicode_strings_compare_as_their_text() -> None:
    exported = orjson.loads(b'{"S":"\\u00fcn\\u00ef \\"q\\" back\\\\slash \xf0\x9f\x9a\x80"}')
    assert canonical(exported) == canonical({"S": 'ünï "q" back\\slash 🚀'})
    assert canonical(exported) != canonical({"S": "\\u00fcn\\u00ef \\"})  # what moto's ImportTable makes of it


class StandInTable:
    """Answers BatchGetItem from a dict of items (as the low-level client returns them); the first answer leaves
    some keys unprocessed, as DynamoDB may."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = {(i["pk"]["S"], i["sk"]["N"]): i for i in items}
        self.calls = 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        self.calls += 1
        held, later = (keys[: len(keys) // 2], keys[len(keys) // 2 :]) if self.calls == 1 else (keys, [])
        found = [self.items[(k["pk"]["S"], k["sk"]["N"])] for k in held if (k["pk"]["S"], k["sk"]["N"]) in self.items]
        unprocessed = {table: {**request, "Keys": later}} if later else {}
        return {"Responses": {table: found}, "UnprocessedKeys": unprocessed}


def test_the_sample_comparison_names_a_restored_item_that_differs_and_one_that_is_missing() -> None:
    sample = list(sample_items(150, seed=2))
    restored = [decoded(item) for item in sample]
    restored[17] = {**restored[17], "age": {"N": "101"}, "tags": {"SS": ["changed"]}}
    del restored[42]
    table = StandInTable(restored)

    differences = compare_sample(table, "orders-drill-202612021530", ("pk", "sk"), sample)

    assert differences == [
        f"pk={sample[17]['pk']['S']}, sk={sample[17]['sk']['N']}: age, tags",
        f"pk={sample[42]['pk']['S']}, sk={sample[42]['sk']['N']}: (missing)",
    ]
    assert table.calls >= 3  # two batches of 100, the first retried for its unprocessed keys
