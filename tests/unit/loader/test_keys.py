"""Keys compare as DynamoDB compares them: numbers by exact value (38 digits), binary by bytes, strings as text."""

from __future__ import annotations

import base64
from decimal import Decimal, localcontext

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.loader.keys import KeyValueRefused, canonical_binary, canonical_number, item_key
from tests.unit.loader.strategies import (
    binary_spellings,
    key_bytes,
    key_value,
    number_values,
    numbers,
    spellings,
    value_of,
    zero_spellings,
)


def test_numbers_that_differ_in_their_38th_digit_are_two_keys() -> None:
    low, high = "-1705226330.1234567890123456789012345671", "-1705226330.1234567890123456789012345672"
    assert canonical_number(low) != canonical_number(high)


@given(number_values().flatmap(lambda value: st.tuples(spellings(value), spellings(value))))
def test_every_spelling_of_one_number_is_one_key(pair: tuple[str, str]) -> None:
    assert canonical_number(pair[0]) == canonical_number(pair[1])


@given(numbers, numbers)
def test_two_numbers_are_one_key_exactly_when_their_values_are_equal(a: str, b: str) -> None:
    assert (canonical_number(a) == canonical_number(b)) == (value_of(a) == value_of(b))


@given(number_values().flatmap(spellings), st.integers(-3, 3))
def test_a_number_and_its_neighbour_in_the_last_digit_never_collide(text: str, step: int) -> None:
    with localcontext(prec=400):  # exact arithmetic: 28 digits would round the very digits under test
        value = value_of(text).normalize()
        neighbour = value + step * Decimal((0, (1,), value.as_tuple().exponent))
    try:
        other = canonical_number(str(neighbour))
    except KeyValueRefused:
        assume(False)  # stepped past 9.99…E+125 or below 1E-130
    assert (other == canonical_number(text)) == (step == 0)


@given(zero_spellings, zero_spellings)
def test_every_zero_is_one_key(a: str, b: str) -> None:
    assert canonical_number(a) == canonical_number(b) == "0"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1." + "0" * 37 + "1", "39 significant digits"),
        ("123456789012345678901234567890123456789", "39 significant digits"),
        ("1E126", "outside DynamoDB's range"),
        ("1E-131", "outside DynamoDB's range"),
        ("-1E+126", "outside DynamoDB's range"),
        ("1E99999999999999999999", "outside DynamoDB's range"),
        ("", "not a number"),
        ("1_000", "not a number"),
        ("NaN", "not a number"),
        ("Infinity", "not a number"),
        (" 1", "not a number"),
        ("١٢", "not a number"),  # digits, but not ASCII ones: DynamoDB refuses them
        ("1e", "not a number"),
        (".", "not a number"),
    ],
)
def test_numbers_dynamodb_refuses_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(KeyValueRefused, match=reason):
        canonical_number(text)


def test_the_extremes_dynamodb_accepts_are_accepted() -> None:
    assert canonical_number("1E-130") == "1E-130"
    assert canonical_number("-9.9999999999999999999999999999999999999E+125") == "-" + "9" * 38 + "0" * 88
    assert canonical_number("1" + "0" * 60) == "1" + "0" * 60  # 61 digits, 1 of them significant


@given(key_bytes.flatmap(lambda data: st.tuples(st.just(data), binary_spellings(data), binary_spellings(data))))
def test_binary_keys_compare_by_their_bytes_whatever_the_base64_spelling(case: tuple[bytes, str, str]) -> None:
    data, a, b = case
    assert canonical_binary(a) == canonical_binary(b) == data


@given(key_bytes, key_bytes)
def test_different_bytes_are_different_binary_keys(a: bytes, b: bytes) -> None:
    encoded = base64.b64encode
    assert (canonical_binary(encoded(a).decode()) == canonical_binary(encoded(b).decode())) == (a == b)


@pytest.mark.parametrize("text", ["QQ", "Q Q==", "QQ==\n", "QQ==QQ==", "é"])
def test_text_that_is_not_padded_base64_is_refused(text: str) -> None:
    with pytest.raises(KeyValueRefused, match="not base64"):
        canonical_binary(text)


def _oracle(image: dict[str, dict[str, str]], names: tuple[str, ...]) -> tuple[object, ...]:
    """The key by DynamoDB's rules, computed the slow, obvious way."""
    parts: list[object] = []
    for name in names:
        ((kind, text),) = image[name].items()
        parts += (kind, value_of(text) if kind == "N" else base64.b64decode(text) if kind == "B" else text)
    return tuple(parts)


key_kinds = st.tuples(st.sampled_from("SNB"), st.sampled_from("SNB"))


@given(key_kinds.flatmap(lambda kinds: st.lists(st.tuples(*(key_value(kind) for kind in kinds)), min_size=2)))
def test_item_keys_match_exactly_when_dynamodb_would_see_one_key(pairs: list[tuple[dict[str, str], ...]]) -> None:
    names = ("pk", "sk")
    images = [dict(zip(names, pair, strict=True)) for pair in pairs]
    for a in images:
        for b in images:
            assert (item_key(a, names) == item_key(b, names)) == (_oracle(a, names) == _oracle(b, names))


def test_a_key_attribute_of_another_type_is_refused_by_name() -> None:
    with pytest.raises(KeyValueRefused, match="the key attribute sk is 'SS'"):
        item_key({"pk": {"S": "a"}, "sk": {"SS": ["x"]}}, ("pk", "sk"))
    with pytest.raises(KeyValueRefused, match="the key attribute sk: '1E999' is outside"):
        item_key({"pk": {"S": "a"}, "sk": {"N": "1E999"}}, ("pk", "sk"))
    with pytest.raises(KeyError, match="sk"):
        item_key({"pk": {"S": "a"}}, ("pk", "sk"))


@given(key_bytes.flatmap(lambda data: st.tuples(binary_spellings(data), binary_spellings(data))), key_value("N"))
def test_an_item_whose_binary_key_is_spelled_two_ways_has_one_key(
    spelled: tuple[str, str], sort: dict[str, str]
) -> None:
    names = ("pk", "sk")
    first, second = ({"pk": {"B": text}, "sk": sort} for text in spelled)
    assert item_key(first, names) == item_key(second, names)
