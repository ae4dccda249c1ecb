"""The key schema and indexes of a table a restore creates: from the export's record, `key=`, or the live source
table, in that order (a source table recreated since the export may have another key: only the record says what
the export's items were written with)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.aws.table_info import describe_table
from bot.aws.tables import TableRef
from bot.core import Core
from bot.errors import PreconditionFailed, UsageError
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


RECORDED = "the schema recorded when the bot made the export"


def known_schema(core: Core, source: ResolvedExport) -> TableSchema | None:
    """The export's schema: as the bot recorded it with the export, else as the live source table has it now."""
    return recorded_schema(source) or live_schema(core, source)


def recorded_schema(source: ResolvedExport) -> TableSchema | None:
    """The schema the bot recorded when it made the export (None for exports it did not make)."""
    if source.snapshot.get("KeySchema"):
        return schema_from_description(source.snapshot, RECORDED)
    return None


def live_schema(core: Core, source: ResolvedExport) -> TableSchema | None:
    """The source table's schema now, when the bot can read it (None otherwise)."""
    if not source.table_name or source.source_place is None:
        return None
    place = source.source_place
    try:
        info = describe_table(core.aws.dynamodb(place), TableRef(source.table_name), place)
    except Exception:
        return None
    if not info.snapshot.get("KeySchema"):
        return None
    return schema_from_description(info.snapshot, f"the source table `{source.table_named}` as it is now")


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


def schema_for_new_table(
    core: Core, source: ResolvedExport, key: tuple[tuple[str, str], ...]
) -> tuple[TableSchema, tuple[str, ...]]:
    """The new table's schema and what approvers must know about its choice: the export's record first, then
    `key=`, then the live source table. A live table whose key differs from the record was recreated since the
    export: refused unless `key=` confirms the recorded key, since every item would otherwise be rejected."""
    recorded = recorded_schema(source)
    given = schema_from_key_option(key) if key else None
    live = live_schema(core, source)
    if recorded is not None and given is not None and recorded.keys() != given.keys():
        raise UsageError(
            f"`key=` says {keys_text(given.keys())} but {recorded.basis} says {keys_text(recorded.keys())}. "
            "Leave `key=` out to use the export's key schema."
        )
    chosen = recorded or given or live
    if chosen is None:
        raise PreconditionFailed(
            f"I cannot tell the key schema of export `{source.export_id}`: its table is not reachable and the "
            "bot did not record the export. Nothing was asked.",
            "Add `key=<attr>:<S|N|B>[,<attr>:<S|N|B>]` (partition key first), e.g. `key=pk:S,sk:S`.",
        )
    if live is None or live.keys() == chosen.keys() or chosen is live:
        return chosen, ()
    table = f"`{source.table_named}`"
    if recorded is not None and given is None:
        raise PreconditionFailed(
            f"The source table {table} now has the key {keys_text(live.keys())}, but export `{source.export_id}` was "
            f"made when it had {keys_text(recorded.keys())}: the table was recreated since. Nothing was asked.",
            f"To restore the export as it was made, add `key={_key_option(recorded)}` (its recorded key); the new "
            "table then gets that key.",
        )
    return chosen, (
        f"The source table {table} now has the key {keys_text(live.keys())}; the new table gets "
        f"{keys_text(chosen.keys())} from {chosen.basis}.",
    )


def keys_text(keys: dict[str, str]) -> str:
    """`pk:S, sk:N`: key attributes and their types, partition key first."""
    return ", ".join(f"{name}:{kind}" for name, kind in keys.items()) or "none"


def _key_option(schema: TableSchema) -> str:
    return ",".join(f"{name}:{kind}" for name, kind in schema.keys().items())
