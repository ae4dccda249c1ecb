"""`where=` text rewritten with placeholders, as FilterSpecification needs it."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.recovery.where import filter_expression


def test_names_and_values_become_placeholders() -> None:
    found = filter_expression("deploy = 'v2.3.1' AND price > 100 AND status <> \"ok\"")
    assert found.expression == "#w0 = :w0 AND #w1 > :w1 AND #w2 <> :w2"
    assert found.names == {"#w0": "deploy", "#w1": "price", "#w2": "status"}
    assert found.values == {":w0": {"S": "v2.3.1"}, ":w1": {"N": "100"}, ":w2": {"S": "ok"}}


def test_functions_keywords_paths_and_indexes_are_kept() -> None:
    found = filter_expression(
        "begins_with(sku, 'X-') OR NOT attribute_exists(meta.deploy[0]) OR size(tags) BETWEEN 1 AND 2"
    )
    assert (
        found.expression == "begins_with(#w0, :w0) OR NOT attribute_exists(#w1.#w2[0]) OR size(#w3) BETWEEN :w1 AND :w2"
    )
    assert found.names == {"#w0": "sku", "#w1": "meta", "#w2": "deploy", "#w3": "tags"}


def test_a_reserved_word_as_a_name_is_a_placeholder_and_repeated_names_share_one() -> None:
    found = filter_expression("name = 'a' OR name = 'b'")
    assert found.expression == "#w0 = :w0 OR #w0 = :w1"
    assert found.specification() == {
        "FilterExpression": "#w0 = :w0 OR #w0 = :w1",
        "ExpressionAttributeNames": {"#w0": "name"},
        "ExpressionAttributeValues": {":w0": {"S": "a"}, ":w1": {"S": "b"}},
    }


def test_numbers_are_sent_in_their_canonical_spelling() -> None:
    assert filter_expression("v = 1E+2").values == {":w0": {"N": "100"}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "`where=` is empty"),
        ("a = $x", "cannot be read at `$x`"),
        ("a = 'unclosed", "cannot be read at `'unclosed`"),
        ("a = 1." + "0" * 40 + "1", "significant digits"),
        ("a = 'x'" + " OR a = 'x'" * 400, "DynamoDB takes at most 4 KB"),
    ],
)
def test_what_cannot_be_read_is_said(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("$", r"\$")):
        filter_expression(text)
