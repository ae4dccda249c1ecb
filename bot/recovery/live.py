"""The live items of one key or partition, read consistently, as DynamoDB JSON on the wire (binary as base64)."""

from __future__ import annotations

from typing import Any

from bot.aws.accounts import Place
from bot.aws.errors import translate
from bot.core import Core
from bot.errors import PreconditionFailed
from bot.recovery.keys import ItemKey, as_wire

MAX_PARTITION_ITEMS = 10_000  # more than anyone reads in chat: a partition that large is refused, not truncated


class PartitionTooLarge(PreconditionFailed):
    """The partition holds more items than a chat answer or a partition recovery handles."""


def live_items(core: Core, place: Place, table: str, key: ItemKey) -> list[dict[str, Any]]:
    """The item (GetItem) or every item of the partition (Query, paginated), as they are now."""
    client: Any = core.aws.dynamodb(place)
    try:
        if not key.whole_partition:
            found = client.get_item(TableName=table, Key=key.as_key(), ConsistentRead=True).get("Item")
            return [as_wire(found)] if found else []
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": table, "ConsistentRead": True, **key.key_condition()}
        while True:
            page = client.query(**request)
            items.extend(as_wire(item) for item in page.get("Items", []))
            if len(items) > MAX_PARTITION_ITEMS:
                raise PartitionTooLarge(
                    f"The partition holds more than {MAX_PARTITION_ITEMS:,} items, more than one recovery handles.",
                    "Name the sort key too, to look at or recover one item.",
                )
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    except PartitionTooLarge:
        raise
    except Exception as exc:
        raise translate(exc, "dynamodb:Query", f"Table `{table}`") from exc
