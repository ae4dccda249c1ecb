"""What the stand-ins need to know about a table (ARN, id, key schema, indexes, status), read from moto's DescribeTable,
and item keys compared the way DynamoDB compares them."""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType

from bot.demo.aws.front import AwsError, Caller, DynamoDbFront
from bot.loader.keys import KeyValueRefused, key_part

Item = dict[str, Any]  # DynamoDB JSON as on the wire: {"pk": {"S": "a"}, …}
KeyIdentity = tuple[Hashable, ...]


@dataclass(frozen=True)
class IndexInfo:
    """A secondary index: what it holds decides the bytes a write adds to it (BulkOperationUsage)."""

    name: str
    is_global: bool
    key_names: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    included: tuple[str, ...]


@dataclass(frozen=True)
class TableInfo:
    """A table as DescribeTable shows it."""

    name: str
    arn: str
    table_id: str
    status: str
    key_names: tuple[str, ...]  # partition key first
    key_types: dict[str, str]
    indexes: tuple[IndexInfo, ...]
    has_replicas: bool

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    def keys_of(self, item: Item) -> Item:
        """The key attributes of an item (or of a `Key` map)."""
        return {name: item[name] for name in self.key_names if name in item}

    def identity(self, keys: Item) -> KeyIdentity:
        """The key as DynamoDB compares it (N by value, B by bytes), usable as a dict key."""
        try:
            return tuple(key_part(name, keys[name]) for name in self.key_names)
        except (KeyError, KeyValueRefused) as error:
            raise AwsError(
                "ValidationException", f"The provided key element does not match the schema: {error}"
            ) from None

    def scratch_definition(self, name: str) -> dict[str, Any]:
        """CreateTable arguments for a private table with this table's key schema (and nothing else)."""
        schema = [{"AttributeName": n, "KeyType": "HASH" if i == 0 else "RANGE"} for i, n in enumerate(self.key_names)]
        definitions = [{"AttributeName": n, "AttributeType": self.key_types[n]} for n in self.key_names]
        return {
            "TableName": name,
            "KeySchema": schema,
            "AttributeDefinitions": definitions,
            "BillingMode": "PAY_PER_REQUEST",
        }


def table_name_of(name_or_arn: str) -> str:
    """A TableName member may be a name or an ARN (`arn:aws:dynamodb:<region>:<account>:table/<name>`)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":", 5)[-1].removeprefix("table/").split("/", 1)[0]
    return name_or_arn


def describe_table(front: DynamoDbFront, caller: Caller, name_or_arn: str) -> TableInfo:
    """The table from moto, as the caller sees it; an ARN of another account or Region is not found.

    Raises AwsError ResourceNotFoundException (moto's answer) when there is no such table.
    """
    name = table_name_of(name_or_arn)
    table = front.call_moto(caller, "DescribeTable", {"TableName": name})["Table"]
    if name_or_arn.startswith("arn:") and name_or_arn.split("/", 2)[:2] != str(table["TableArn"]).split("/", 2)[:2]:
        raise AwsError("ResourceNotFoundException", f"Requested resource not found: Table: {name_or_arn} not found")
    created = table.get("CreationDateTime", "")  # moto gives no TableId: one per table incarnation instead
    key_names = tuple(k["AttributeName"] for k in sorted(table["KeySchema"], key=lambda k: k["KeyType"] != "HASH"))
    indexes = tuple(
        _index(index, is_global)
        for is_global, member in ((True, "GlobalSecondaryIndexes"), (False, "LocalSecondaryIndexes"))
        for index in table.get(member, [])
    )
    return TableInfo(
        name=str(table["TableName"]),
        arn=str(table["TableArn"]),
        table_id=str(table.get("TableId") or uuid.uuid5(uuid.NAMESPACE_URL, f"{table['TableArn']}@{created}")),
        status=str(table.get("TableStatus", "ACTIVE")),
        key_names=key_names,
        key_types={d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]},
        indexes=indexes,
        has_replicas=bool(table.get("Replicas")),
    )


def _index(index: dict[str, Any], is_global: bool) -> IndexInfo:
    projection = index.get("Projection", {})
    return IndexInfo(
        name=str(index["IndexName"]),
        is_global=is_global,
        key_names=tuple(k["AttributeName"] for k in index["KeySchema"]),
        projection=str(projection.get("ProjectionType", "ALL")),
        included=tuple(projection.get("NonKeyAttributes", [])),
    )


def item_size(item: Item) -> int:
    """An item's size in bytes as moto computes it (names plus values; DynamoDB's rule, without list/map overhead)."""
    return sum(len(name.encode()) + DynamoType(value).size() for name, value in item.items())


def index_image(table: TableInfo, index: IndexInfo, item: Item) -> Item | None:
    """What a write of `item` puts into the index: nothing when the item lacks an index key attribute."""
    if any(name not in item for name in index.key_names):
        return None
    if index.projection == "ALL":
        return item
    kept = set(table.key_names) | set(index.key_names) | set(index.included if index.projection == "INCLUDE" else ())
    return {name: value for name, value in item.items() if name in kept}
