"""Time-travelling table state: every successful write through the front, recorded with the stand-in clock's time.

moto keeps only the present, so PITR exports at a past time, incremental exports of a window and a moving PITR window
need a history. Each write operation (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems) is
forwarded to moto unchanged, so moto evaluates conditions and answers exactly as it would, and only what moto
accepted is recorded: per table, (write time in microseconds, key, new image or None for a delete). UpdateItem's
new image is read back with a consistent GetItem; BatchWriteItem's UnprocessedItems are passed through and not
recorded. All writes through the front are serialised, so the recorded order is moto's order and the live table
always equals the latest state of its history.

A table the front meets for the first time (created elsewhere, or before the front) is adopted: its items are read
from moto and recorded at that moment. Writes that bypass the front (to moto directly, PartiQL statements) are not
recorded. Seeding the past: set the clock back, write through boto3, move it forward; a write with a time earlier
than the table's last recorded write is refused (InternalServerError naming the cause), since history cannot be
rewritten.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.demo.aws.clock import micros
from bot.demo.aws.front import Answer, AwsError, Caller, DynamoDbCall, DynamoDbFront, IncomingRequest
from bot.demo.aws.tables import Item, KeyIdentity, TableInfo, describe_table


@dataclass(frozen=True)
class Change:
    """One recorded write: when, which key, and the item after it (None: deleted)."""

    micros: int
    identity: KeyIdentity
    keys: Item
    image: Item | None


@dataclass(frozen=True)
class Transition:
    """An item changed inside a window: the image before the window, the image at its end, the last write's time."""

    keys: Item
    old: Item | None
    new: Item | None
    last_micros: int


class Timeline:
    """One table's recorded writes in time order."""

    def __init__(self, table: TableInfo) -> None:
        self.table = table
        self._changes: list[Change] = []
        self._times: list[int] = []

    def check_time(self, at: int) -> None:
        if self._times and at < self._times[-1]:
            raise AwsError(
                "InternalServerError",
                f"stand-in clock is before the last recorded write of {self.table.name}: history is written in time "
                "order (seed the past first, then move the clock forward)",
                500,
            )

    def record(self, at: int, keys: Item, image: Item | None) -> None:
        self.check_time(at)
        self._changes.append(Change(at, self.table.identity(keys), keys, image))
        self._times.append(at)

    def changes(self) -> list[Change]:
        return list(self._changes)

    def state_at(self, at: int) -> dict[KeyIdentity, Item]:
        """The items as they were at `at` (writes at exactly `at` included), in first-write order."""
        state: dict[KeyIdentity, Item] = {}
        for change in self._changes[: bisect.bisect_right(self._times, at)]:
            if change.image is None:
                state.pop(change.identity, None)
            else:
                state[change.identity] = change.image
        return state

    def transitions(self, start: int, end: int) -> list[Transition]:
        """Each item written in [start, end) once: its state before `start` and after its last write before `end`."""
        before = self.state_at(start - 1)
        last: dict[KeyIdentity, Change] = {}
        for change in self._changes[bisect.bisect_left(self._times, start) : bisect.bisect_left(self._times, end)]:
            last.pop(change.identity, None)
            last[change.identity] = change
        return [Transition(c.keys, before.get(i), c.image, c.micros) for i, c in last.items()]


class History:
    """Records the writes that pass through the front and answers what a table held at any time."""

    def __init__(self, front: DynamoDbFront) -> None:
        self.front = front
        self._timelines: dict[str, Timeline] = {}
        self._lock = threading.RLock()  # one write at a time: recorded order is moto's order
        front.add_gate(self._on_reset)
        for operation, handler in {
            "PutItem": self._put_item,
            "DeleteItem": self._delete_item,
            "UpdateItem": self._update_item,
            "BatchWriteItem": self._batch_write_item,
            "TransactWriteItems": self._transact_write_items,
        }.items():
            front.handle(operation, handler)

    def timeline(self, caller: Caller, table: TableInfo) -> Timeline:
        """The table's history; a table met for the first time is adopted with moto's items recorded now."""
        with self._lock:
            key = f"{table.arn}#{table.table_id}"
            if key not in self._timelines:
                timeline = Timeline(table)
                now = micros(self.front.clock())
                for item in self._scan(caller, table):
                    timeline.record(now, table.keys_of(item), item)
                self._timelines[key] = timeline
            return self._timelines[key]

    def put_item(self, caller: Caller, table: TableInfo, request: dict[str, Any], *, record: bool = True) -> None:
        """A PutItem sent to moto through the history (the bulk stand-in's writes). Raises moto's AwsError."""
        with self._lock:
            timeline = self.timeline(caller, table)
            now = micros(self.front.clock())
            timeline.check_time(now)
            self.front.call_moto(caller, "PutItem", request)
            if record:
                timeline.record(now, table.keys_of(request["Item"]), request["Item"])

    def _put_item(self, call: DynamoDbCall) -> Answer:
        item = call.body.get("Item") or {}
        return self._write(call, [(call.body.get("TableName", ""), lambda t: (t.keys_of(item), item))])

    def _delete_item(self, call: DynamoDbCall) -> Answer:
        key = call.body.get("Key") or {}
        return self._write(call, [(call.body.get("TableName", ""), lambda t: (t.keys_of(key), None))])

    def _update_item(self, call: DynamoDbCall) -> Answer:
        key = call.body.get("Key") or {}
        return self._write(call, [(call.body.get("TableName", ""), lambda t: self._read_back(call.caller, t, key))])

    def _batch_write_item(self, call: DynamoDbCall) -> Answer:
        writes: list[tuple[str, Callable[[TableInfo], tuple[Item, Item | None]]]] = []
        for name, requests in (call.body.get("RequestItems") or {}).items():
            for request in requests:
                writes.append((name, _batch_request_effect(request)))
        return self._write(call, writes, unprocessed=lambda answer: answer.json().get("UnprocessedItems") or {})

    def _transact_write_items(self, call: DynamoDbCall) -> Answer:
        writes: list[tuple[str, Callable[[TableInfo], tuple[Item, Item | None]]]] = []
        for action in call.body.get("TransactItems") or []:
            for kind, detail in action.items():
                if kind == "Put":
                    writes.append((detail.get("TableName", ""), _constant(detail.get("Item") or {}, put=True)))
                elif kind == "Delete":
                    writes.append((detail.get("TableName", ""), _constant(detail.get("Key") or {}, put=False)))
                elif kind == "Update":
                    key = detail.get("Key") or {}
                    writes.append((detail.get("TableName", ""), self._reader(call.caller, key)))
        return self._write(call, writes)

    def _write(
        self,
        call: DynamoDbCall,
        writes: list[tuple[str, Callable[[TableInfo], tuple[Item, Item | None]]]],
        unprocessed: Callable[[Answer], dict[str, Any]] | None = None,
    ) -> Answer:
        """Forward the write; if moto accepted it, record each effect (not those moto left unprocessed) at one time."""
        with self._lock:
            tables = self._tables(call.caller, {name for name, _ in writes})
            if tables is None:  # a table moto does not know: moto answers the error
                return self.front.forward(call.request)
            now = micros(self.front.clock())
            timelines = {name: self.timeline(call.caller, table) for name, table in tables.items()}
            for timeline in timelines.values():
                timeline.check_time(now)
            answer = self.front.forward(call.request)
            if answer.status != 200:
                return answer
            skipped = _unprocessed_keys(tables, unprocessed(answer)) if unprocessed else set()
            for name, effect in writes:
                keys, image = effect(tables[name])
                if (name, tables[name].identity(keys)) not in skipped:
                    timelines[name].record(now, keys, image)
            return answer

    def _tables(self, caller: Caller, names: set[str]) -> dict[str, TableInfo] | None:
        try:
            return {name: describe_table(self.front, caller, name) for name in names}
        except AwsError:
            return None

    def _reader(self, caller: Caller, key: Item) -> Callable[[TableInfo], tuple[Item, Item | None]]:
        return lambda table: self._read_back(caller, table, key)

    def _read_back(self, caller: Caller, table: TableInfo, key: Item) -> tuple[Item, Item | None]:
        found = self.front.call_moto(caller, "GetItem", {"TableName": table.name, "Key": key, "ConsistentRead": True})
        return table.keys_of(key), found.get("Item")

    def _scan(self, caller: Caller, table: TableInfo) -> Iterator[Item]:
        request: dict[str, Any] = {"TableName": table.name, "ConsistentRead": True}
        while True:
            page = self.front.call_moto(caller, "Scan", request)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _on_reset(self, request: IncomingRequest) -> None:
        if request.path.startswith("/moto-api/reset"):
            with self._lock:
                self._timelines.clear()


def _constant(attributes: Item, *, put: bool) -> Callable[[TableInfo], tuple[Item, Item | None]]:
    return lambda table: (table.keys_of(attributes), attributes if put else None)


def _batch_request_effect(request: dict[str, Any]) -> Callable[[TableInfo], tuple[Item, Item | None]]:
    if "PutRequest" in request:
        return _constant(request["PutRequest"].get("Item") or {}, put=True)
    return _constant((request.get("DeleteRequest") or {}).get("Key") or {}, put=False)


def _unprocessed_keys(tables: dict[str, TableInfo], unprocessed: dict[str, Any]) -> set[tuple[str, KeyIdentity]]:
    keys: set[tuple[str, KeyIdentity]] = set()
    for name, requests in unprocessed.items():
        for request in requests:
            keys.add((name, tables[name].identity(_batch_request_effect(request)(tables[name])[0])))
    return keys
