"""An item's key as a person writes it (`orderId=A-1001 line=3`), typed by the table's key schema.

Key attributes are named as the table's key schema names them and typed as it declares them: S as the text, N as a
number DynamoDB accepts (38 significant digits, its range; sent in its one canonical spelling so `1E+2` and `100`
name one item), B as standard padded base64 (DynamoDB compares the bytes). The partition key is required; without
the sort key (on a table that has one) the key names the whole partition.
"""

from __future__ import annotations

import base64
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import UsageError
from bot.loader.keys import KeyValueRefused, canonical_binary, canonical_number, comparable

MAX_PARTITION_BYTES, MAX_SORT_BYTES = 2048, 1024  # DynamoDB's key value limits
Item = Mapping[str, Any]


@dataclass(frozen=True)
class KeyAttribute:
    """One key attribute of the schema: its name and declared type (S, N or B)."""

    name: str
    kind: str


@dataclass(frozen=True)
class KeySchema:
    """A table's partition key and, when it has one, its sort key."""

    partition: KeyAttribute
    sort: KeyAttribute | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The key attributes' names, partition key first."""
        return (self.partition.name,) + ((self.sort.name,) if self.sort else ())

    @property
    def text(self) -> str:
        """`orderId (S), line (N)`: how the schema is shown in messages."""
        return ", ".join(f"{a.name} ({a.kind})" for a in self.attributes)

    @property
    def attributes(self) -> tuple[KeyAttribute, ...]:
        """The key attributes, partition key first."""
        return (self.partition,) + ((self.sort,) if self.sort else ())

    def as_dict(self) -> dict[str, str]:
        """`{name: type}`, partition key first (for plans and the store)."""
        return {a.name: a.kind for a in self.attributes}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> KeySchema:
        """Rebuild from `as_dict()`."""
        attributes = [KeyAttribute(str(name), str(kind)) for name, kind in data.items()]
        return cls(attributes[0], attributes[1] if len(attributes) > 1 else None)

    @classmethod
    def of_table(cls, description: Mapping[str, Any]) -> KeySchema:
        """From DescribeTable's KeySchema and AttributeDefinitions."""
        types = {d["AttributeName"]: d["AttributeType"] for d in description.get("AttributeDefinitions") or []}
        schema = {k["KeyType"]: k["AttributeName"] for k in description.get("KeySchema") or []}
        partition = KeyAttribute(schema["HASH"], types.get(schema["HASH"], "S"))
        sort = KeyAttribute(schema["RANGE"], types.get(schema["RANGE"], "S")) if "RANGE" in schema else None
        return cls(partition, sort)

    def identity(self, item: Item) -> Hashable:
        """The item's key as DynamoDB compares keys (N by value, B by bytes); KeyError names a missing attribute."""
        return tuple(_comparable(a, item[a.name]) for a in self.attributes)

    def key_of(self, item: Item) -> dict[str, Any]:
        """The key attributes of an item, as DynamoDB JSON."""
        return {name: item[name] for name in self.names}

    def key_text(self, item: Item) -> str:
        """`orderId=A-1001, line=3`: a key as people read it (binary as base64). Keys are shown in channels; values
        of other attributes never are."""
        return ", ".join(f"{a.name}={_shown(item.get(a.name))}" for a in self.attributes if a.name in item)


@dataclass(frozen=True)
class ItemKey:
    """What `/ddb-item` and `/ddb-recover` name: one item (partition and sort value) or one whole partition."""

    schema: KeySchema
    partition: dict[str, str]  # DynamoDB JSON of the partition key value: {"S": "A-1001"}
    sort: dict[str, str] | None = None

    @property
    def whole_partition(self) -> bool:
        """True when the table has a sort key and none was given: every item of the partition."""
        return self.schema.sort is not None and self.sort is None

    @property
    def text(self) -> str:
        """`orderId=A-1001, line=3`, or `orderId=A-1001 (the whole partition)`."""
        shown = self.schema.key_text(self.as_key())
        return f"{shown} (the whole partition)" if self.whole_partition else shown

    def as_key(self) -> dict[str, Any]:
        """The key attributes given, as DynamoDB JSON."""
        key: dict[str, Any] = {self.schema.partition.name: dict(self.partition)}
        if self.schema.sort is not None and self.sort is not None:
            key[self.schema.sort.name] = dict(self.sort)
        return key

    def matches(self, item: Item) -> bool:
        """True when the item has this key (this partition, when no sort key was given)."""
        try:
            if _comparable(self.schema.partition, item[self.schema.partition.name]) != _comparable(
                self.schema.partition, self.partition
            ):
                return False
            if self.schema.sort is None or self.sort is None:
                return True
            return _comparable(self.schema.sort, item[self.schema.sort.name]) == _comparable(
                self.schema.sort, self.sort
            )
        except (KeyError, KeyValueRefused):
            return False

    def key_condition(self) -> dict[str, Any]:
        """The KeyConditionExpression (with its names and values) selecting this item or partition, as a Query or
        a filtered export's FilterSpecification takes it."""
        names = {"#k0": self.schema.partition.name}
        values: dict[str, Any] = {":k0": dict(self.partition)}
        expression = "#k0 = :k0"
        if self.schema.sort is not None and self.sort is not None:
            names["#k1"] = self.schema.sort.name
            values[":k1"] = dict(self.sort)
            expression += " AND #k1 = :k1"
        return {
            "KeyConditionExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def as_dict(self) -> dict[str, Any]:
        """For the store and plans."""
        return {"schema": self.schema.as_dict(), "partition": self.partition, "sort": self.sort}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ItemKey:
        """Rebuild from `as_dict()`."""
        sort = data.get("sort")
        return cls(KeySchema.from_dict(data["schema"]), dict(data["partition"]), dict(sort) if sort else None)


def parse_item_key(parts: Sequence[tuple[str, str]], schema: KeySchema, usage: str | None = None) -> ItemKey:
    """`[(name, text), …]` as the user wrote them → the key, typed by the schema; a UsageError says what is wrong
    and names the table's key attributes and types."""
    given: dict[str, str] = {}
    for name, text in parts:
        if name in given:
            raise UsageError(f"`{name}=` is given twice; give each key attribute once.", usage)
        given[name] = text
    unknown = [name for name in given if name not in schema.names]
    if unknown:
        raise UsageError(
            f"`{unknown[0][:100]}` is not a key attribute of this table; its key is {schema.text}. Name the key "
            f"attributes as the table does, e.g. `{_example(schema)}`.",
            usage,
        )
    if schema.partition.name not in given:
        raise UsageError(
            f"Give the partition key `{schema.partition.name}=`; this table's key is {schema.text}, e.g. "
            f"`{_example(schema)}`.",
            usage,
        )
    partition = typed_value(schema.partition, given[schema.partition.name], MAX_PARTITION_BYTES, usage)
    sort = None
    if schema.sort is not None and schema.sort.name in given:
        sort = typed_value(schema.sort, given[schema.sort.name], MAX_SORT_BYTES, usage)
    return ItemKey(schema, partition, sort)


def typed_value(attribute: KeyAttribute, text: str, max_bytes: int, usage: str | None = None) -> dict[str, str]:
    """A key value written as text, as DynamoDB JSON of the declared type (a number in its canonical spelling)."""
    name = attribute.name
    try:
        if attribute.kind == "N":
            return {"N": canonical_number(text.strip())}
        if attribute.kind == "B":
            data = canonical_binary(text.strip())
            if not data or len(data) > max_bytes:
                raise KeyValueRefused(f"it holds {len(data)} bytes; a key holds 1 to {max_bytes}")
            return {"B": base64.b64encode(data).decode()}
    except KeyValueRefused as error:
        kind = "a number" if attribute.kind == "N" else "base64 (e.g. `AQID`)"
        raise UsageError(f"`{name}=` must be {kind}, as the table declares it: {error}.", usage) from None
    size = len(text.encode())
    if not 1 <= size <= max_bytes:
        raise UsageError(f"`{name}=` must hold 1 to {max_bytes} bytes; it holds {size}.", usage)
    return {"S": text}


def _comparable(attribute: KeyAttribute, value: Any) -> Hashable:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise KeyValueRefused(f"the key attribute {attribute.name} is not one attribute value")
    ((kind, inner),) = value.items()
    if isinstance(inner, bytes | bytearray):
        inner = base64.b64encode(bytes(inner)).decode()
    return comparable(attribute.name, kind, str(inner))


def _shown(value: Any) -> str:
    if not isinstance(value, Mapping) or len(value) != 1:
        return "?"
    inner = next(iter(value.values()))
    return base64.b64encode(bytes(inner)).decode() if isinstance(inner, bytes | bytearray) else str(inner)


def _example(schema: KeySchema) -> str:
    sample = {"S": "A-1001", "N": "3", "B": "AQID"}
    return " ".join(f"{a.name}={sample.get(a.kind, 'x')}" for a in schema.attributes)


def as_wire(value: Any) -> Any:
    """An item (or value) read by the low-level boto3 client as DynamoDB JSON on the wire: binary as base64 text, as
    exports and the writer carry it (so it can be stored as JSON and compared with export items)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Mapping):
        return {name: as_wire(inner) for name, inner in value.items()}
    if isinstance(value, list | tuple):
        return [as_wire(inner) for inner in value]
    return value
