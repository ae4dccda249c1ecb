"""The BatchWriteItem sink (ddb_sink.py) with what a conditional repair sends: BatchGetItem, and PutItem/DeleteItem with
a ConditionExpression and ReturnValuesOnConditionCheckFailure=ALL_OLD, so the recovery benchmark can write 100,000
repairs at the speed of a local socket.

Conditions: only the forms bot/recovery/conditions.py builds are evaluated (`attribute_not_exists(#k)`,
`attribute_exists(#k)`, and `#aN = :aN` joined by AND), with DynamoDB's comparison (bot/loader/compare.py's canonical
forms: numbers by value, sets as sets, maps by content); any other expression is a ValidationException, so the sink
never pretends to judge what it cannot. tests/integration/recovery/test_sink_conditions.py checks it against moto.
Each successful write is counted per key (`writes_per_key`): a benchmark proves nothing was written twice.

`python -m tests.support.ddb_sink_conditions --table t:pk,sk --preload 100000 --later-every 100` serves a table of
100,000 items in the state a bad change left them (`v=bad`), every 100th changed again afterwards (`v=later`).
"""

from __future__ import annotations

import argparse
import re
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson

from bot.loader.compare import canonical
from tests.support.ddb_sink import DynamoDbSink, SinkError, _key_value

COMPARISON = re.compile(r"(#a\d+) = (:a\d+)")
EXISTS = re.compile(r"attribute_(not_)?exists\((#k)\)")


class ConditionalSink(DynamoDbSink):
    """Tables of {name: key attribute names}; items kept whole (value checks off, as in the benchmarks)."""

    def __init__(self, tables: dict[str, Sequence[str]], **options: Any) -> None:
        super().__init__(tables, check_values=False, **options)
        self.writes_per_key: Counter[tuple[Any, ...]] = Counter()
        self.condition_failures = 0
        self.reads = 0
        self._items_lock = threading.Lock()

    def preload(self, table: str, items: Sequence[dict[str, Any]]) -> None:
        """Put items without counting them as writes (the table's state before the benchmark)."""
        with self._items_lock:
            for item in items:
                self._data[table][self._key(table, item)] = item

    def handle(self, target: str, body: bytes) -> dict[str, Any]:
        operation = target.rsplit(".", 1)[-1]
        if operation not in {"BatchGetItem", "PutItem", "DeleteItem"}:
            return super().handle(target, body)
        request = orjson.loads(body)
        if operation == "BatchGetItem":
            return self._batch_get(request)
        return self._conditional_write(request, put=operation == "PutItem")

    def _batch_get(self, request: dict[str, Any]) -> dict[str, Any]:
        ((table, wanted),) = request["RequestItems"].items()
        keys = wanted["Keys"]
        if len(keys) > 100:
            raise SinkError(400, "ValidationException", "Too many items requested for the BatchGetItem call")
        with self._items_lock:
            self.reads += len(keys)
            found = [item for key in keys if (item := self._data[table].get(self._key(table, key))) is not None]
        return {"Responses": {table: found}, "UnprocessedKeys": {}}

    def _conditional_write(self, request: dict[str, Any], *, put: bool) -> dict[str, Any]:
        table = request["TableName"]
        if table not in self.tables:
            raise SinkError(400, "ResourceNotFoundException", "Requested resource not found")
        subject = request["Item"] if put else request["Key"]
        key = self._key(table, subject)
        with self._items_lock:
            live = self._data[table].get(key)
            if not _holds(request, live):
                self.condition_failures += 1
                returned = live is not None and request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                raise SinkError(
                    400,
                    "ConditionalCheckFailedException",
                    "The conditional request failed",
                    {"Item": live} if returned else None,
                )
            if put:
                self._data[table][key] = subject
            else:
                self._data[table].pop(key, None)
            self.writes_per_key[key] += 1
        size = len(orjson.dumps(subject if put else live or {}))
        return {"ConsumedCapacity": {"TableName": table, "CapacityUnits": float(max(1, -(-size // 1024)))}}

    def counters(self) -> dict[str, int | float]:
        """The sink's counters, with the repairs': reads, failed conditions, keys written and most writes of one key."""
        with self._items_lock:
            repairs = {
                "reads": self.reads,
                "condition_failures": self.condition_failures,
                "keys_written": len(self.writes_per_key),
                "most_writes_of_a_key": max(self.writes_per_key.values(), default=0),
            }
        return {**super().counters(), **repairs}

    def _key(self, table: str, item: dict[str, Any]) -> tuple[Any, ...]:
        names = self.tables[table]
        return tuple(_key_value(name, item[name], None, self._reject) for name in names)


def _holds(request: dict[str, Any], live: dict[str, Any] | None) -> bool:
    """Whether the request's condition holds for `live` (None: no item); raises for a form the sink does not judge."""
    expression = request.get("ConditionExpression")
    if expression is None:
        return True
    names = request.get("ExpressionAttributeNames") or {}
    values = request.get("ExpressionAttributeValues") or {}
    exists = EXISTS.fullmatch(expression)
    if exists:
        present = live is not None and names.get(exists.group(2)) in live
        return present != bool(exists.group(1))
    terms = expression.split(" AND ")
    matched = [COMPARISON.fullmatch(term) for term in terms]
    if not all(matched):
        raise SinkError(400, "ValidationException", f"the sink does not evaluate the condition {expression[:80]!r}")
    if live is None:
        return False
    for match in matched:
        assert match is not None
        name, value = names[match.group(1)], values[match.group(2)]
        if name not in live or canonical(live[name]) != canonical(value):
            return False
    return True


def preloaded(count: int, later_every: int) -> list[dict[str, Any]]:
    """`count` items as a bad change left them; every `later_every`-th changed again afterwards."""
    return [
        {
            "pk": {"S": f"k{n:07d}"},
            "sk": {"S": "1"},
            "v": {"S": "later" if later_every and n % later_every == 0 else "bad"},
        }
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", required=True, help="name:key1[,key2]")
    parser.add_argument("--preload", type=int, default=0)
    parser.add_argument("--later-every", type=int, default=0)
    args = parser.parse_args()
    name, keys = args.table.split(":")
    sink = ConditionalSink({name: keys.split(",")})
    sink.preload(name, preloaded(args.preload, args.later_every))
    sink.start()
    print(sink.endpoint_url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
