"""Export lines turned into write requests: exactly one request per line, and the key DynamoDB will see.

Each line is validated in full by msgspec as one JSON object with exactly the fields its export type has
(`{"Item":…}`, or `Keys` with optional `Metadata`, `NewImage`, `OldImage`), and the item is forwarded as the exact
bytes of its own JSON value (`msgspec.Raw`): text that is one valid JSON value cannot close the request around it,
so a damaged or crafted line can never become two requests or hide a key from the per-batch dedup. msgspec because
it checks and slices a line without building Python objects for it: reading a line the same way with orjson
(parse, check, serialise the item again) takes about three times the CPU (bench/json_codecs.py, bench/results.md
section 7), so msgspec is the bot's one JSON library. The key attributes are decoded from that same item text (for a
name given twice the last one counts, for msgspec as for DynamoDB's parser) and must be S, N or B values; what is
inside the other attributes is DynamoDB's to check (it refuses the batch, and the loader names the file).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import msgspec
from msgspec.structs import astuple

from bot.loader.keys import KeyValueRefused, comparable

# A write request as sent: its JSON (`{"PutRequest":…}` or `{"DeleteRequest":…}`) and whether it is a put.
WriteRequest = tuple[bytes, bool]
_PUT, _DELETE, _END = b'{"PutRequest":{"Item":', b'{"DeleteRequest":{"Key":', b"}}"
_ABSENT = msgspec.Raw()
_TOO_DEEP = "its values nest deeper than a DynamoDB item can (32 levels)"


class LineRefused(ValueError):
    """The line is not one record of a DynamoDB JSON export; the message says what is wrong with it."""


class _KeyValue(msgspec.Struct, forbid_unknown_fields=True):
    """A key attribute's value: msgspec refuses any other type name (SS, M…) and any value that is not text."""

    S: str | None = None
    N: str | None = None
    B: str | None = None


class _FullLine(msgspec.Struct, forbid_unknown_fields=True):
    Item: msgspec.Raw


class _ChangeLine(msgspec.Struct, forbid_unknown_fields=True):
    Keys: msgspec.Raw
    NewImage: msgspec.Raw = _ABSENT
    OldImage: msgspec.Raw = _ABSENT
    Metadata: msgspec.Raw = _ABSENT


class ExportLineReader:
    """Reads the lines of one table's exports; `key_names` are the table's key attributes, partition key first."""

    def __init__(self, key_names: Sequence[str]) -> None:
        self.key_names = tuple(key_names)
        fields = [(f"k{n}", _KeyValue | None, None) for n in range(len(self.key_names))]
        rename = {f"k{n}": name for n, name in enumerate(self.key_names)}
        self._keys: msgspec.json.Decoder[Any] = msgspec.json.Decoder(msgspec.defstruct("Keys", fields, rename=rename))
        self._full = msgspec.json.Decoder(_FullLine)
        self._change = msgspec.json.Decoder(_ChangeLine)

    def read(self, line: bytes) -> tuple[WriteRequest, Hashable]:
        """A full export's line (`{"Item":{…}}`) as a put and its key.

        Raises KeyError naming a missing key attribute, LineRefused (a ValueError) for anything else wrong.
        """
        if line.startswith(b'{"Item":{') and line.endswith(b"}\n"):
            item: bytes | msgspec.Raw = line[8:-2]  # the compact line DynamoDB writes: parsing the item checks it
            try:
                key = self._key(item, "Item")[0]
            except LineRefused:
                item = _decoded(self._full, line).Item  # not one JSON value: the whole line says what is wrong
                key = self._key(item, "Item")[0]
        else:
            item = _decoded(self._full, line).Item
            key = self._key(item, "Item")[0]
        return (b"".join((_PUT, item, _END)), True), key

    def read_change(self, line: bytes) -> tuple[WriteRequest, Hashable]:
        """An incremental export's line: a put of NewImage, or a delete of Keys when it has no NewImage."""
        record = _decoded(self._change, line)
        for name in ("OldImage", "Metadata"):
            value = getattr(record, name)
            if value is not _ABSENT:
                _require_object(value, name)
        key, values = self._key(record.Keys, "Keys")
        if record.NewImage is _ABSENT:
            only_key = {name: _as_written(value) for name, value in zip(self.key_names, values, strict=True)}
            return (b"".join((_DELETE, msgspec.json.encode(only_key), _END)), False), key
        if self._key(record.NewImage, "NewImage")[0] != key:
            raise LineRefused("its NewImage has another key than its Keys")
        return (b"".join((_PUT, record.NewImage, _END)), True), key

    def _key(self, image: bytes | msgspec.Raw, name: str) -> tuple[Hashable, tuple[_KeyValue | None, ...]]:
        """The key as DynamoDB compares it (see keys.comparable), and the key attributes as written."""
        try:
            values = astuple(self._keys.decode(image))
        except msgspec.DecodeError as error:  # ValidationError included
            raise LineRefused(f"its {name} is not an object with S, N or B key attributes ({error})") from None
        except RecursionError:
            raise LineRefused(_TOO_DEEP) from None
        names = self.key_names
        if len(values) == 2:  # a partition and a sort key: spelled out, the common case costs a third less
            return (_comparable(names[0], values[0]), _comparable(names[1], values[1])), values
        return tuple(_comparable(name, value) for name, value in zip(names, values, strict=True)), values


def _comparable(attribute: str, value: _KeyValue | None) -> Hashable:
    if value is None:
        raise KeyError(attribute)
    text, number, binary = value.S, value.N, value.B
    if text is not None and number is None and binary is None:
        return text  # the common case first: a string is its own comparable form
    if number is not None and text is None and binary is None:
        return comparable(attribute, "N", number)
    if binary is not None and text is None and number is None:
        return comparable(attribute, "B", binary)
    raise LineRefused(f"the key attribute {attribute} holds {'more than one' if value != _KeyValue() else 'no'} type")


def _as_written(value: _KeyValue | None) -> dict[str, str]:
    assert value is not None  # _key refused the line otherwise
    return {kind: text for kind, text in (("S", value.S), ("N", value.N), ("B", value.B)) if text is not None}


def _decoded(decoder: msgspec.json.Decoder[Any], line: bytes) -> Any:
    try:
        return decoder.decode(line)
    except msgspec.ValidationError as error:
        raise LineRefused(f"it is not a record of this export type ({error})") from None
    except msgspec.DecodeError as error:
        raise LineRefused(f"it is not JSON ({error})") from None
    except RecursionError:  # msgspec's answer to nesting past its depth limit, hundreds of levels down
        raise LineRefused(_TOO_DEEP) from None


def _require_object(value: msgspec.Raw, name: str) -> None:
    if bytes(memoryview(value)[:1]) != b"{":
        raise LineRefused(f"its {name} is not a JSON object")


__all__ = ["ExportLineReader", "KeyValueRefused", "LineRefused", "WriteRequest"]
