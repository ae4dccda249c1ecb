"""The key schema and indexes of a table a restore creates: from the source table, the export's record or `key=`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.aws.table_info import describe_table
from bot.aws.tables import TableRef
from bot.core import Core
from bot.restores.sources import ResolvedExport


@dataclass(frozen=True)
class TableSchema:
    """Key schema, attribute definitions and GSIs for a new table, and where they came from."""

    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    gsis: list[dict[str, Any]] = field(default_factory=list)
    throughput: dict[str, int] | None = None
    basis: str = ""
    local_indexes: int = 0

    def keys(self) -> dict[str, str]:
        """The table's key attributes and their types, partition key first."""
        types = {d["AttributeName"]: d["AttributeType"] for d in self.attribute_definitions}
        ordered = sorted(self.key_schema, key=lambda k: 0 if k["KeyType"] == "HASH" else 1)
        return {k["AttributeName"]: types.get(k["AttributeName"], "?") for k in ordered}


def known_schema(core: Core, source: ResolvedExport) -> TableSchema | None:
    if source.table_name and source.source_place is not None:
        place = source.source_place
        try:
            info = describe_table(core.aws.dynamodb(place), TableRef(source.table_name), place)
        except Exception:
            info = None
        if info is not None and info.snapshot.get("KeySchema"):
            return schema_from_description(info.snapshot, f"the source table `{source.table_name}`")
    if source.snapshot.get("KeySchema"):
        return schema_from_description(source.snapshot, "the schema recorded when the bot made the export")
    return None


def schema_from_description(description: dict[str, Any], basis: str) -> TableSchema:
    """Keep from a DescribeTable result what CreateTable/ImportTable accept."""
    gsis = []
    for index in description.get("GlobalSecondaryIndexes") or []:
        gsi: dict[str, Any] = {
            "IndexName": index["IndexName"],
            "KeySchema": index["KeySchema"],
            "Projection": index.get("Projection") or {"ProjectionType": "ALL"},
        }
        throughput = _capacity(index.get("ProvisionedThroughput"))
        if throughput:
            gsi["ProvisionedThroughput"] = throughput
        gsis.append(gsi)
    used = {k["AttributeName"] for k in description.get("KeySchema", [])}
    used |= {k["AttributeName"] for g in gsis for k in g["KeySchema"]}
    definitions = [
        {"AttributeName": d["AttributeName"], "AttributeType": d["AttributeType"]}
        for d in description.get("AttributeDefinitions", [])
        if d["AttributeName"] in used
    ]
    return TableSchema(
        key_schema=[{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in description["KeySchema"]],
        attribute_definitions=definitions,
        gsis=gsis,
        throughput=_capacity(description.get("ProvisionedThroughput")),
        basis=basis,
        local_indexes=len(description.get("LocalSecondaryIndexes") or []),
    )


def _capacity(throughput: Any) -> dict[str, int] | None:
    if not isinstance(throughput, dict):
        return None
    read, write = throughput.get("ReadCapacityUnits") or 0, throughput.get("WriteCapacityUnits") or 0
    if read <= 0 or write <= 0:
        return None
    return {"ReadCapacityUnits": int(read), "WriteCapacityUnits": int(write)}


def schema_from_key_option(key: tuple[tuple[str, str], ...]) -> TableSchema:
    kinds = ("HASH", "RANGE")
    return TableSchema(
        key_schema=[{"AttributeName": name, "KeyType": kinds[i]} for i, (name, _) in enumerate(key)],
        attribute_definitions=[{"AttributeName": name, "AttributeType": kind} for name, kind in key],
        basis="`key=`",
    )
