"""The drill's sample read back from its table and compared, attribute for attribute, as DynamoDB compares values
(bot.loader.compare): the one comparison of every drill, from an export or from PITR."""

from __future__ import annotations

import base64
from typing import Any

from bot.aws.errors import translate
from bot.loader.compare import item_differences, key_text

BATCH_GET = 100


def compare_sample(client: Any, table: str, names: tuple[str, ...], sample: list[dict[str, Any]]) -> list[str]:
    """Read the sampled items back from `table` (BatchGetItem, 100 at a time, consistent reads) and name each one
    that differs: `pk=…, sk=…: attribute, attribute` (`(missing)` when the table lacks it)."""
    differences = []
    for start in range(0, len(sample), BATCH_GET):
        batch = sample[start : start + BATCH_GET]
        found = _batch_get(client, table, [_key(item, names) for item in batch])
        for item in batch:
            differing = item_differences(item, found.get(_key_id(_key(item, names), names)))
            if differing:
                differences.append(f"{key_text(item, names)}: {', '.join(differing)}")
    return differences


def _batch_get(client: Any, table: str, keys: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
    names = tuple(keys[0]) if keys else ()
    for _ in range(20):
        if not request:
            break
        try:
            response = client.batch_get_item(RequestItems=request)
        except Exception as exc:
            raise translate(exc, "dynamodb:BatchGetItem", f"Drill table `{table}`") from exc
        for item in response.get("Responses", {}).get(table, []):
            found[_key_id(item, names)] = item
        request = response.get("UnprocessedKeys") or {}
    return found


def _key(item: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The item's key for BatchGetItem: binary as bytes (the export has base64 text)."""
    key = {}
    for name in names:
        ((kind, value),) = item[name].items()
        key[name] = {kind: base64.b64decode(value) if kind == "B" else value}
    return key


def _key_id(item: dict[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(next(iter(item[name].items())) for name in names if name in item)
