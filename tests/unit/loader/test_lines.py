"""Each export line is exactly one write request, or refused; its key is the key DynamoDB will read from it."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.loader.lines import ExportLineReader, LineRefused
from tests.unit.loader.strategies import key_value, other_attributes, value_of

NAMES = ("pk", "sk")
Item = dict[str, Any]
reader = ExportLineReader(NAMES)


def oracle_key(image: Item) -> tuple[object, ...]:
    """The key by DynamoDB's rules: numbers by value, binary by bytes."""
    parts: list[object] = []
    for name in NAMES:
        ((kind, text),) = image[name].items()
        parts += (kind, value_of(text) if kind == "N" else base64.b64decode(text) if kind == "B" else text)
    return tuple(parts)


@st.composite
def items(draw: st.DrawFn) -> Item:
    kinds = draw(st.tuples(st.sampled_from("SNB"), st.sampled_from("SNB")))
    item: Item = draw(other_attributes)
    keys = {name: draw(key_value(kind)) for name, kind in zip(NAMES, kinds, strict=True)}
    order = draw(st.sampled_from(("keys first", "keys last")))  # DynamoDB writes keys first; nothing relies on it
    return {**keys, **item} if order == "keys first" else {**item, **keys}


def full_line(item: Item) -> bytes:
    return orjson.dumps({"Item": item}) + b"\n"


def requests_in(request: bytes) -> list[Any]:
    """What DynamoDB would find in a batch holding this one request."""
    batch = orjson.loads(b'{"RequestItems":{"t":[' + request + b"]}}")
    return list(batch["RequestItems"]["t"])


@given(st.lists(items(), min_size=2, max_size=6))
def test_two_lines_share_a_key_exactly_when_dynamodb_would_see_one_key(batch: list[Item]) -> None:
    read = [reader.read(full_line(item)) for item in batch]
    for (request, key), item in zip(read, batch, strict=True):
        assert requests_in(request[0]) == [{"PutRequest": {"Item": item}}]
        for other_key, other in zip((k for _, k in read), batch, strict=True):
            assert (key == other_key) == (oracle_key(item) == oracle_key(other))


@given(items(), st.sampled_from(("", "Keys", "Keys+OldImage", "Metadata")))
def test_incremental_lines_put_their_new_image_or_delete_their_keys(item: Item, shape: str) -> None:
    keys = {name: item[name] for name in NAMES}
    record: Item = {"Metadata": {"WriteTimestampMicros": {"N": "1"}}, "Keys": keys}
    if shape != "Keys":
        record["NewImage"] = item
    if shape == "Keys+OldImage":
        record["OldImage"] = item
    (request, is_put), key = reader.read_change(orjson.dumps(record) + b"\n")
    expected = {"PutRequest": {"Item": item}} if "NewImage" in record else {"DeleteRequest": {"Key": keys}}
    assert requests_in(request) == [expected] and is_put == ("NewImage" in record)
    assert key == reader.read(full_line(item))[1]


def _crafted(item: Item, victim: Item) -> st.SearchStrategy[bytes]:
    """Lines built to smuggle a second request, or cut, padded and extended versions of a valid one."""
    body = orjson.dumps(item)
    victim_key = orjson.dumps({name: victim[name] for name in NAMES})
    line = full_line(item)
    smuggled = [
        b'{"Item":' + body + b'}},{"DeleteRequest":{"Key":' + victim_key + b"}}\n",
        b'{"Item":' + body + b'}},{"DeleteRequest":{"Key":' + victim_key + b"}\n",
        b'{"Item":' + body[:-1] + b'}}},{"PutRequest":{"Item":' + orjson.dumps(victim) + b"}\n",
        b'{"Item":' + body + b',"Item":' + orjson.dumps(victim) + b"}\n",
        b'{"Item":' + body + b',"Extra":{}}\n',
        b'{"Item":' + body + b',"Keys":' + victim_key + b"}\n",
        b'{"Item":' + body[:-1] + b',"pk":' + orjson.dumps(victim["pk"]) + b"}}\n",
        b'{"Item":' + body + b"}}\n",
        b'{"Item":' + body + b"\n",
        b' {"Item":' + body + b"} \r\n",
    ]
    return st.one_of(
        st.sampled_from(smuggled),
        st.integers(0, len(line)).map(lambda cut: line[:cut]),
        st.tuples(st.integers(0, len(line)), st.binary(min_size=1, max_size=3)).map(
            lambda edit: line[: edit[0]] + edit[1] + line[edit[0] + 1 :]
        ),
    )


lines = st.one_of(
    st.binary(max_size=80),
    st.tuples(items(), items()).flatmap(lambda pair: _crafted(*pair)),
    items().map(full_line),
)


@given(lines)
def test_any_line_is_exactly_one_request_whose_key_is_its_items_key_or_is_refused(line: bytes) -> None:
    try:
        (request, is_put), key = reader.read(line)
    except (KeyError, ValueError):
        return  # refused: LineRefused, KeyValueRefused (both ValueErrors) or a missing key attribute
    record = orjson.loads(line)  # accepted lines are JSON…
    assert list(record) == ["Item"] and is_put  # …with exactly one field…
    assert requests_in(request) == [{"PutRequest": {"Item": record["Item"]}}]  # …giving exactly one request
    assert key == reader.read(full_line(record["Item"]))[1]  # the key of the item as parsed


@given(st.one_of(st.binary(max_size=80), st.tuples(items(), items()).flatmap(lambda pair: _crafted(*pair))))
def test_any_incremental_line_is_exactly_one_request_or_is_refused(line: bytes) -> None:
    changed = line.replace(b'{"Item":', b'{"Keys":{"pk":{"S":"k"},"sk":{"N":"1"}},"NewImage":', 1)
    for candidate in (line, changed):
        try:
            (request, is_put), _ = reader.read_change(candidate)
        except (KeyError, ValueError):
            continue
        record = orjson.loads(candidate)
        assert set(record) <= {"Keys", "NewImage", "OldImage", "Metadata"} and "Keys" in record
        (only,) = requests_in(request)
        if is_put:
            assert only == {"PutRequest": {"Item": record["NewImage"]}}
        else:
            assert only == {"DeleteRequest": {"Key": {name: record["Keys"][name] for name in NAMES}}}


def test_a_line_smuggling_a_delete_of_another_item_is_refused() -> None:
    line = b'{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}},{"DeleteRequest":{"Key":{"pk":{"S":"victim"},"sk":{"N":"1"}}}}\n'
    with pytest.raises(LineRefused, match="not JSON"):
        reader.read(line)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}},"Extra":1}\n', "unknown field `Extra`"),
        (b'{"Item":[1]}\n', "not an object"),
        (b'{"Item":{"pk":{"N":1},"sk":{"N":"1"}}}\n', r"Expected `str \| null`, got `int` - at `\$.pk.N`"),
        (b'{"Item":{"pk":{"SS":["a"]},"sk":{"N":"1"}}}\n', "unknown field `SS` - at `\\$.pk`"),
        (b'{"Item":{"pk":{"S":"a","N":"1"},"sk":{"N":"1"}}}\n', "the key attribute pk holds more than one type"),
        (b'{"Item":{"pk":{},"sk":{"N":"1"}}}\n', "the key attribute pk holds no type"),
        (b'{"Item":{"pk":{"S":"a"},"sk":{"N":"1' + b"0" * 38 + b'1"}}}\n', "40 significant digits"),
        (b'{"Item":{"pk":{"B":"not base64!"},"sk":{"N":"1"}}}\n', "not base64"),
        (b'{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}', "not JSON"),
        (b'{"Item":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "nest deeper than a DynamoDB item can"),
        (b'{"Item":{"pk":{"S":"a"},"sk":{"N":"1"},"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}}\n", "nest deeper"),
        (b'{"Item":{"pk":' + b"[" * 100_000 + b"]" * 100_000 + b"}}\n", "nest deeper"),
    ],
)
def test_a_refused_line_says_what_is_wrong(line: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        reader.read(line)


def test_an_incremental_line_nested_past_the_parser_is_refused_saying_so() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    for line in (b'{"Keys":{"pk":{"S":"a"},"sk":{"N":"1"}},"OldImage":' + deep + b"}\n", b'{"Keys":' + deep + b"}\n"):
        with pytest.raises(LineRefused, match="nest deeper than a DynamoDB item can"):
            reader.read_change(line)


def test_an_incremental_line_whose_new_image_has_another_key_is_refused() -> None:
    line = b'{"Keys":{"pk":{"S":"a"},"sk":{"N":"1"}},"NewImage":{"pk":{"S":"b"},"sk":{"N":"1"}}}\n'
    with pytest.raises(LineRefused, match="another key"):
        reader.read_change(line)
