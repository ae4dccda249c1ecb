"""A local stand-in for DynamoDB's BatchWriteItem (and a minimal DescribeTable) that answers at once.

It checks each batch as DynamoDB does, so tests catch violations: at most 25 requests, a known table, keys present,
of the schema's types (`key_types`) and distinct as DynamoDB compares them (N by value with 38-digit precision, B by
bytes), numbers within DynamoDB's 38 digits and range, items at most 400 KB by DynamoDB's size rules. It can throttle
calls or leave items unprocessed, or fail persistently (`fail_mode`: "500" answers InternalServerError to every
BatchWriteItem, "close" drops every connection unanswered). It does not check signatures.

Faults come two ways. By number, for tests that count them: `throttle_calls` are the BatchWriteItem calls to throttle
(numbered 1, 2, … as they arrive) and `unprocessed_keys` maps keys (their values' text, as `items()` gives them) to
how many times each is handed back unprocessed before it is written, so how many faults happen is certain whatever
order concurrent callers reach the sink in. By fraction (`throttle_fraction`, `unprocessed_fraction`), drawn from a
seeded generator: the benchmarks' load of faults; with several callers the draws fall to calls in an order that
timing decides, so how many calls are throttled or items handed back is chance, not something a test may count on. Run it in its own process for benchmarks: `python -m tests.support.ddb_sink --table t:pk,sk`.
With `--distinct-keys` it keeps only a 64-bit digest of each written key (and their sum), so a benchmark can check
millions of writes for lost and extra items cheaply, throttling and leaving items unprocessed as usual.

With `capacity` (`--capacity`, write units a second) it is a table with that much throughput: a token bucket holding
one second of it, 1 unit per started KB of each put (DynamoDB's item size; the fast path of `--distinct-keys` takes
the request's wire JSON length, a little more), 1 per delete. What does not fit is returned in UnprocessedItems;
a call of which nothing fits gets ProvisionedThroughputExceededException. `partition_capacity`
(`--partition-capacity`, e.g. 1000) adds one such bucket per partition key value. Asked for
`ReturnConsumedCapacity=TOTAL`, it reports the units used; `counters()` gives the busiest 5-second window.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import math
import random
import re
import ssl
import threading
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded
from hashlib import blake2b
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

PREFIX = "com.amazonaws.dynamodb.v20120810#"
_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
_MASK64 = (1 << 64) - 1
_ONE_TABLE = re.compile(rb'\{"RequestItems":\{"([^"\\]+)":\[')
_CONSUMED_SUFFIX = b']},"ReturnConsumedCapacity":"TOTAL"}'
SLOT_S = 0.1  # consumed units are kept per 100 ms, so the busiest 5-second window can be found afterwards
WINDOW_SLOTS = 50
MAX_ITEM_BYTES = 400 * 1024
# DynamoDB's number precision; any rounding is an error, so a number is taken exactly or refused
_NUMBERS = Context(prec=38, traps=[Inexact, Rounded, InvalidOperation])


def key_digest(key: Sequence[str]) -> bytes:
    """A stable 64-bit digest of a key tuple (the form `items()` and `export_fixtures.key_of` use)."""
    return blake2b("\x00".join(key).encode(), digest_size=8).digest()


def key_checksum(keys: Iterable[Sequence[str]]) -> int:
    """The sum (mod 2**64) of the keys' digests: what `counters()["key_checksum"]` reports for exactly these keys."""
    return _checksum(key_digest(key) for key in keys)


def _checksum(digests: Iterable[bytes]) -> int:
    return sum(int.from_bytes(digest, "big") for digest in digests) & _MASK64


class SinkError(Exception):
    def __init__(self, status: int, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.extra = extra or {}  # more members of the error answer (a failed condition's Item)


class DynamoDbSink:
    """Tables are {name: key attribute names}; `items(table)` maps key value tuples to wire-format items."""

    def __init__(
        self,
        tables: dict[str, Sequence[str]] | None = None,
        *,
        unprocessed_fraction: float = 0.0,
        throttle_fraction: float = 0.0,
        fail_after_calls: int | None = None,
        seed: int = 0,
        check_values: bool = True,
        count_only: bool = False,
        distinct_keys: bool = False,
        key_types: dict[str, Sequence[str]] | None = None,
        fail_mode: str | None = None,
        capacity: float | None = None,
        partition_capacity: float | None = None,
        throttle_calls: Collection[int] = (),
        unprocessed_keys: Mapping[Sequence[str], int] | None = None,
    ) -> None:
        self.tables = {name: tuple(keys) for name, keys in (tables or {}).items()}
        self.key_types = {name: tuple(types) for name, types in (key_types or {}).items()}  # e.g. ("S", "N")
        self.fail_mode = fail_mode  # None, "500" or "close": a persistent failure for retry tests…
        self.fail_from_call = 0  # …of every BatchWriteItem call after this many
        self.unprocessed_fraction = unprocessed_fraction
        self.throttle_fraction = throttle_fraction
        self.throttle_calls = frozenset(throttle_calls)  # call numbers (1 = the first BatchWriteItem) to throttle
        self._hand_backs = {tuple(key): times for key, times in (unprocessed_keys or {}).items() if times > 0}
        self.fail_after_calls = fail_after_calls
        self.check_values = check_values  # off for benchmarks: the deep checks cost more than the loader's work
        self.count_only = count_only  # benchmarks: count requests without parsing or storing them
        self.distinct_keys = distinct_keys  # benchmarks: keep 64-bit key digests instead of the items
        self._digests: dict[str, set[bytes]] = {name: set() for name in self.tables}
        self.items_written = 0  # puts applied (received, neither throttled nor left unprocessed)
        self._key_patterns: dict[str, re.Pattern[bytes]] = {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._data: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {name: {} for name in self.tables}
        self.calls = self.items_received = self.unprocessed_returned = 0
        self.calls_with_unprocessed = self.throttled = self.rejected = 0
        self.rejections: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self.scheme = "http"
        self.capacity = _Bucket(capacity) if capacity else None
        self.partition_capacity = partition_capacity
        self._partitions: dict[Any, _Bucket] = {}
        self.consumed_units = 0.0
        self._started = time.monotonic()
        self._slots: dict[int, float] = {}

    # ------------------------------------------------------------------------------------------- lifecycle

    def start(self, tls: ssl.SSLContext | None = None) -> DynamoDbSink:
        """Serve on 127.0.0.1 (HTTPS with `tls`, a server context holding the sink's certificate)."""
        sink = self

        class Handler(_Handler):
            pass

        Handler.sink = sink
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="ddb-sink", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DynamoDbSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "start() the sink first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}" if self.scheme == "http" else f"https://localhost:{port}"

    def client(self) -> Any:
        """A boto3 DynamoDB client pointed at the sink (the loader takes credentials, region, endpoint from it)."""
        import boto3

        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    # ------------------------------------------------------------------------------------------- state

    def add_table(self, name: str, key_names: Sequence[str]) -> None:
        with self._lock:
            self.tables[name] = tuple(key_names)
            self._data.setdefault(name, {})
            self._digests.setdefault(name, set())

    def items(self, table: str | None = None) -> dict[tuple[str, ...], dict[str, Any]]:
        """A snapshot of a table's items (the only table when none is named), by their key values' text."""
        with self._lock:
            name = table or next(iter(self._data))
            names = self.tables[name]
            return {tuple(str(next(iter(item[n].values()))) for n in names): item for item in self._data[name].values()}

    def counters(self) -> dict[str, int | float]:
        with self._lock:
            return {
                "calls": self.calls,
                "items_received": self.items_received,
                "unprocessed_returned": self.unprocessed_returned,
                "calls_with_unprocessed": self.calls_with_unprocessed,
                "throttled": self.throttled,
                "rejected": self.rejected,
                "items": sum(len(items) for items in self._data.values()),
                "items_written": self.items_written,
                "distinct_keys": sum(len(digests) for digests in self._digests.values())
                if self.distinct_keys
                else sum(len(items) for items in self._data.values()),
                "key_checksum": _checksum(d for digests in self._digests.values() for d in digests),
                "consumed_units": round(self.consumed_units),
                "busiest_5s_units": round(self._busiest_window()),
                "active_seconds": round(self._active_seconds(), 3),
            }

    def _busiest_window(self) -> float:
        """The most units consumed in any 5 seconds (50 consecutive 100 ms slots). Called with the lock held."""
        if not self._slots:
            return 0.0
        first, last = min(self._slots), max(self._slots)
        best = window = 0.0
        for slot in range(first, last + 1):
            window += self._slots.get(slot, 0.0) - self._slots.get(slot - WINDOW_SLOTS, 0.0)
            best = max(best, window)
        return best

    def _active_seconds(self) -> float:
        """From the first to the last slot that consumed units. Called with the lock held."""
        return (max(self._slots) - min(self._slots) + 1) * SLOT_S if self._slots else 0.0

    def _admit(self, entries: Sequence[tuple[Any, int]]) -> list[bool]:
        """Which of the (partition key, units) requests fit the table's and their partition's buckets; takes their
        units. Everything fits without a capacity. Called with the lock held."""
        if self.capacity is None and self.partition_capacity is None:
            admitted = [True] * len(entries)
        else:
            now = time.monotonic()
            admitted = [self._fits(partition, units, now) for partition, units in entries]
        used = sum(units for (_, units), ok in zip(entries, admitted, strict=True) if ok)
        if used:
            self.consumed_units += used
            slot = int((time.monotonic() - self._started) / SLOT_S)
            self._slots[slot] = self._slots.get(slot, 0.0) + used
        return admitted

    def _fits(self, partition: Any, units: int, now: float) -> bool:
        table = self.capacity
        bucket = None
        if self.partition_capacity:
            bucket = self._partitions.get(partition)
            if bucket is None:
                bucket = self._partitions[partition] = _Bucket(self.partition_capacity)
        if (table is not None and not table.has(units, now)) or (bucket is not None and not bucket.has(units, now)):
            return False
        if table is not None:
            table.take(units)
        if bucket is not None:
            bucket.take(units)
        return True

    # ------------------------------------------------------------------------------------------- protocol

    def handle(self, target: str, body: bytes) -> dict[str, Any]:
        operation = target.rsplit(".", 1)[-1]
        if self.count_only and operation == "BatchWriteItem":
            return self._count(body)
        if self.distinct_keys and operation == "BatchWriteItem" and (answer := self._distinct_puts(body)) is not None:
            return answer
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise SinkError(400, "SerializationException", str(error)) from error
        if operation == "BatchWriteItem":
            return self._batch_write(request)
        if operation == "DescribeTable":
            return self._describe(request)
        raise SinkError(400, "UnknownOperationException", f"{operation} is not supported by the sink")

    def _describe(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("TableName")
        if name not in self.tables:
            raise SinkError(400, "ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")
        schema = [
            {"AttributeName": key, "KeyType": "HASH" if n == 0 else "RANGE"} for n, key in enumerate(self.tables[name])
        ]
        return {"Table": {"TableName": name, "KeySchema": schema, "TableStatus": "ACTIVE"}}

    def _batch_write(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._failing("500"):
            raise SinkError(500, "InternalServerError", "Internal server error")
        checked = self._validate(request)  # DynamoDB validates the whole batch before writing any of it
        with self._lock:
            self.calls += 1
            if self.fail_after_calls is not None and self.calls > self.fail_after_calls:
                raise SinkError(400, "AccessDeniedException", "sink told to fail after a number of calls")
            self.items_received += len(checked)
            if self.calls in self.throttle_calls or self._random.random() < self.throttle_fraction:
                self._throttle()
            admitted = self._admit([(key[0], _units(raw, put)) for _, key, raw, put in checked])
            if checked and not any(admitted):
                self._throttle()
            unprocessed: dict[str, list[dict[str, Any]]] = {}
            used = 0
            for (table, key, raw, put), fits in zip(checked, admitted, strict=True):
                if not fits or self._handed_back(raw, put, table) or self._random.random() < self.unprocessed_fraction:
                    unprocessed.setdefault(table, []).append(raw)
                    continue
                used += _units(raw, put)
                if self.distinct_keys:  # digested from the key values' text, as the fast path and key_checksum do
                    self._apply_digest(table, key_digest(_key_text(raw, put, self.tables[table])), put)
                elif put:
                    self._data[table][key] = raw["PutRequest"]["Item"]  # one entry per key as DynamoDB compares keys
                else:
                    self._data[table].pop(key, None)
                self.items_written += put
            if unprocessed:
                self.calls_with_unprocessed += 1
                self.unprocessed_returned += sum(len(v) for v in unprocessed.values())
        answer: dict[str, Any] = {"UnprocessedItems": unprocessed}
        if request.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            answer["ConsumedCapacity"] = [
                {"TableName": t, "CapacityUnits": float(used)} for t in request["RequestItems"]
            ]
        return answer

    def _handed_back(self, raw: dict[str, Any], put: bool, table: str) -> bool:
        """Whether this request is one `unprocessed_keys` still hands back (counting it). Called with the lock held."""
        if not self._hand_backs:
            return False
        key = _key_text(raw, put, self.tables[table])
        left = self._hand_backs.get(key, 0)
        if left:
            self._hand_backs[key] = left - 1
        return left > 0

    def _throttle(self) -> None:
        """Refuse the whole call as DynamoDB does when the table has no capacity left. Called with the lock held."""
        self.throttled += 1
        code = "ProvisionedThroughputExceededException" if self.throttled % 2 else "ThrottlingException"
        raise SinkError(400, code, "The level of configured provisioned throughput for the table was exceeded.")

    def _failing(self, mode: str) -> bool:
        """Whether this call fails in `mode` (it is then counted as a call, like any other)."""
        with self._lock:
            if self.fail_mode != mode or self.calls < self.fail_from_call:
                return False
            self.calls += 1
            return True

    def _distinct_puts(self, body: bytes) -> dict[str, Any] | None:
        """A batch of puts to one table in compact JSON, key attributes first (as the bot's loader sends them),
        checked and counted without parsing the items; None when the batch is anything else (it is then parsed).
        """
        head = _ONE_TABLE.match(body)
        wants_consumed = body.endswith(_CONSUMED_SUFFIX)
        tail = len(_CONSUMED_SUFFIX) if wants_consumed else 3
        if self.unprocessed_fraction or self._hand_backs or self.fail_after_calls is not None or head is None:
            return None
        if not wants_consumed and body[-3:] != b"]}}":
            return None
        table = head.group(1).decode()
        if table not in self.tables:
            return None
        pattern = self._key_patterns.get(table)
        if pattern is None:
            attributes = (
                rb'"' + re.escape(name.encode()) + rb'":\{"[SNB]":"([^"\\]*)"\}' for name in self.tables[table]
            )
            pattern = self._key_patterns[table] = re.compile(b",".join(attributes))
        requests = body[head.end() : len(body) - tail].split(b'{"PutRequest":{"Item":{')
        keys = [match.groups() for request in requests[1:] if (match := pattern.match(request))]
        if requests[0] or len(keys) != len(requests) - 1 or len(keys) != body.count(b'Request":'):
            return None  # deletes, a key attribute not first, a key with escapes, any doubt: parse the batch
        if len(keys) > 25:
            self._reject("Too many items requested for the BatchWriteItem call")
        if len(set(keys)) != len(keys):
            self._reject("Provided list of item keys contains duplicates")
        digests = [blake2b(b"\x00".join(key), digest_size=8).digest() for key in keys]
        return self._count_puts(table, keys, digests, requests[1:], wants_consumed)

    def _count_puts(
        self, table: str, keys: list[tuple[bytes, ...]], digests: list[bytes], raw: list[bytes], wants_consumed: bool
    ) -> dict[str, Any]:
        """The fast path's writes: what fits the capacity is kept, the rest is handed back in UnprocessedItems."""
        units = [max(1, math.ceil((len(request) + 20) / 1024)) for request in raw]  # wire length stands for size
        with self._lock:
            self.calls += 1
            self.items_received += len(keys)
            if self.calls in self.throttle_calls or self._random.random() < self.throttle_fraction:
                self._throttle()
            admitted = self._admit([(key[0], n) for key, n in zip(keys, units, strict=True)])
            if keys and not any(admitted):
                self._throttle()
            left = []
            for digest, request, fits in zip(digests, raw, admitted, strict=True):
                if fits:
                    self._apply_digest(table, digest, True)
                else:
                    left.append(orjson.loads(b'{"PutRequest":{"Item":{' + request.rstrip(b",")))
            self.items_written += len(keys) - len(left)
            if left:
                self.calls_with_unprocessed += 1
                self.unprocessed_returned += len(left)
        answer: dict[str, Any] = {"UnprocessedItems": {table: left} if left else {}}
        if wants_consumed:
            used = sum(n for n, fits in zip(units, admitted, strict=True) if fits)
            answer["ConsumedCapacity"] = [{"TableName": table, "CapacityUnits": float(used)}]
        return answer

    def _apply_digest(self, table: str, digest: bytes, put: bool) -> None:
        if put:
            self._digests[table].add(digest)
        else:
            self._digests[table].discard(digest)

    def _count(self, body: bytes) -> dict[str, Any]:
        puts, deletes = body.count(b'{"PutRequest":'), body.count(b'{"DeleteRequest":')
        if puts + deletes > 25:
            self._reject("Too many items requested for the BatchWriteItem call")
        with self._lock:
            self.calls += 1
            self.items_received += puts + deletes
        return {"UnprocessedItems": {}}

    def _validate(self, request: dict[str, Any]) -> list[tuple[str, tuple[Any, ...], dict[str, Any], bool]]:
        tables = request.get("RequestItems")
        if not isinstance(tables, dict) or not tables:
            self._reject("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint")
        assert isinstance(tables, dict)
        if sum(len(requests) for requests in tables.values()) > 25:
            self._reject("Too many items requested for the BatchWriteItem call")
        checked = []
        for table, requests in tables.items():
            if table not in self.tables:
                raise SinkError(400, "ResourceNotFoundException", "Requested resource not found")
            key_names = self.tables[table]
            seen: set[tuple[Any, ...]] = set()
            for raw in requests:
                if set(raw) == {"PutRequest"}:
                    item, put = raw["PutRequest"].get("Item"), True
                elif set(raw) == {"DeleteRequest"}:
                    item, put = raw["DeleteRequest"].get("Key"), False
                    if not isinstance(item, dict) or set(item) != set(key_names):
                        self._reject("The provided key element does not match the schema")
                else:
                    self._reject("Supplied AttributeValue has more than one datatypes set")
                if not isinstance(item, dict) or any(name not in item for name in key_names):
                    self._reject("One or more parameter values were invalid: Missing the key in the item")
                if self.check_values:
                    for value in item.values():
                        _check_value(value, self._reject)
                    if put and item_size(item) > MAX_ITEM_BYTES:
                        self._reject("Item size has exceeded the maximum allowed size")
                types = self.key_types.get(table)
                key = tuple(
                    _key_value(name, item[name], types[n] if types else None, self._reject)
                    for n, name in enumerate(key_names)
                )
                if key in seen:
                    self._reject("Provided list of item keys contains duplicates")
                seen.add(key)
                checked.append((table, key, raw, put))
        return checked

    def _reject(self, message: str) -> Any:
        with self._lock:
            self.rejected += 1
            self.rejections.append(message)
        raise SinkError(400, "ValidationException", message)


def _key_text(raw: dict[str, Any], put: bool, key_names: Sequence[str]) -> tuple[str, ...]:
    """A request's key as the text of its values (the form `key_digest` and `items()` use)."""
    item = raw["PutRequest"]["Item"] if put else raw["DeleteRequest"]["Key"]
    return tuple(str(next(iter(item[name].values()))) for name in key_names)


def _key_value(name: str, value: Any, expected: str | None, reject: Any) -> Any:
    """A key attribute as DynamoDB compares it: S as text, N by exact value (38 digits), B by its bytes."""
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("S", "N", "B"):
        reject("The provided key element does not match the schema")
    ((kind, inner),) = value.items()
    if expected is not None and kind != expected:
        reject(
            f"One or more parameter values were invalid: Type mismatch for key {name} expected: {expected} actual: {kind}"
        )
    if not isinstance(inner, str):
        reject("The provided key element does not match the schema")
    if kind == "N":
        return kind, _number(inner, reject)
    if kind == "B":
        try:
            return kind, base64.b64decode(inner, validate=True)
        except binascii.Error:
            reject("Invalid Base64 binary value")
    return kind, inner


def _number(text: str, reject: Any) -> Decimal:
    """The exact value, as DynamoDB keeps it; numbers it cannot keep exactly are refused, never rounded."""
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text, re.ASCII):
        reject("The parameter cannot be converted to a numeric value")
    try:
        number = _NUMBERS.create_decimal(text)
    except (Inexact, Rounded):
        reject("Attempting to store more than 38 significant digits in a Number")
    except InvalidOperation:
        reject("The parameter cannot be converted to a numeric value")
    if number and not -130 <= number.adjusted() <= 125:
        reject("Number overflow. Attempting to store a number with magnitude larger than supported range")
    return number.normalize(_NUMBERS) if number else Decimal(0)


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (numbers ~1 byte per 2 significant digits + 1, binary
    as its bytes, 3 bytes plus 1 per element for lists and maps, 1 byte for BOOL and NULL)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = inner.lstrip("+-").split("e")[0].split("E")[0].replace(".", "").strip("0")
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(base64.b64decode(inner))
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: element}) for element in inner)
    if kind == "M":
        return 3 + sum(len(name.encode()) + _value_size(nested) + 1 for name, nested in inner.items())
    if kind == "L":
        return 3 + sum(_value_size(nested) + 1 for nested in inner)
    return 1  # BOOL, NULL


def _check_value(value: Any, reject: Any) -> None:
    """Wire-format checks DynamoDB makes; a B that is not base64 text is how double encoding would show."""
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in _TYPES:
        reject("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    ((kind, inner),) = value.items()
    if kind in ("N", "NS"):
        for text in [inner] if kind == "N" else inner:
            _number(text, reject)
    if kind in ("B", "BS"):
        for text in [inner] if kind == "B" else inner:
            try:
                base64.b64decode(text, validate=True)
            except (binascii.Error, TypeError):
                reject("Invalid Base64 binary value")
    elif kind in ("SS", "NS", "BS") and (not inner or len(set(inner)) != len(inner)):
        reject("One or more parameter values were invalid: Input collection contains duplicates or is empty")
    elif kind == "M":
        for nested in inner.values():
            _check_value(nested, reject)
    elif kind == "L":
        for nested in inner:
            _check_value(nested, reject)


class _Bucket:
    """One second of `rate` units, refilled continuously; starts full, as a table that was idle."""

    def __init__(self, rate: float) -> None:
        self.rate, self.tokens, self.at = rate, rate, time.monotonic()

    def has(self, units: int, now: float) -> bool:
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return self.tokens >= units

    def take(self, units: int) -> None:
        self.tokens -= units


def _units(raw: dict[str, Any], put: bool) -> int:
    """Write units of one request: 1 per started KB of the item put, 1 for a delete."""
    return max(1, math.ceil(item_size(raw["PutRequest"]["Item"]) / 1024)) if put else 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in one segment; else each call waits 40 ms
    sink: DynamoDbSink

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.sink._failing("close"):
            self.close_connection = True  # unanswered, as a dropped connection or a crashed front end
            return
        try:
            status, answer = 200, self.sink.handle(self.headers.get("X-Amz-Target", ""), body)
        except SinkError as error:
            status, answer = error.status, {"__type": PREFIX + error.code, "message": error.message, **error.extra}
        self._send(status, orjson.dumps(answer))

    def do_GET(self) -> None:
        self._send(200, orjson.dumps(self.sink.counters()))  # `/_stats`, for a sink in another process

    def _send(self, status: int, payload: bytes) -> None:
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Bad Request' if status < 500 else 'Server Error'}\r\n"
            f"Content-Type: application/x-amz-json-1.0\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.wfile.write(head.encode() + payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", action="append", default=[], help="name:key1[,key2]")
    parser.add_argument("--unprocessed", type=float, default=0.0)
    parser.add_argument("--throttle", type=float, default=0.0)
    parser.add_argument("--no-value-checks", action="store_true", help="check batches and keys only")
    parser.add_argument("--count-only", action="store_true", help="count requests; neither parse nor store them")
    parser.add_argument("--distinct-keys", action="store_true", help="keep 64-bit key digests, not the items")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--capacity", type=float, help="write units a second the table takes (1 s of burst)")
    parser.add_argument("--partition-capacity", type=float, help="write units a second per partition key, e.g. 1000")
    args = parser.parse_args()
    tables = {spec.split(":")[0]: spec.split(":")[1].split(",") for spec in args.table}
    sink = DynamoDbSink(
        tables,
        unprocessed_fraction=args.unprocessed,
        throttle_fraction=args.throttle,
        check_values=not args.no_value_checks,
        count_only=args.count_only,
        distinct_keys=args.distinct_keys,
        seed=args.seed,
        capacity=args.capacity,
        partition_capacity=args.partition_capacity,
    ).start()
    print(sink.endpoint_url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
