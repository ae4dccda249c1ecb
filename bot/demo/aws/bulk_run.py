"""A bulk put operation's processing, in its own thread: read the input objects from moto's S3, parse each line, put
each item through the history (so moto evaluates its condition and the write lands in PITR history), paced on the
stand-in clock, and write the output report at the end.

Input lines are DynamoDB JSON, one record per line; ION input is a sequence of Ion structs of the same shape (mapped
as bot/demo/aws/ion_items.py documents). NOT CONFIRMED (the Format page could not be read), chosen as the
reference's best guess: `{"Item": {...}}`, with optional top-level `ConditionExpression`, `ExpressionAttributeNames`
and `ExpressionAttributeValues` for a conditional put; any other member makes the line a validation error.

Pacing: at most MaxWriteRequestUnits write units in any one second of the stand-in clock, one unit per started KB of
the item (moto's item size); with no MaxWriteRequestUnits, unpaced. With a SettableClock the operation waits, once
a second's units are spent, until the test moves the clock on.

Output report, NOT CONFIRMED layout (the Output page could not be read), chosen here; consumers find it by listing
the output prefix: `<S3KeyPrefix>/<operation id>/manifest.json` (the operation's ARN, final status, counts and the
list of report files) and, per requested OutputType with at least one record, `<S3KeyPrefix>/<operation id>/
<OutputType>/part-00000.jsonl`: JSON Lines, ERROR records `{"S3Key", "LineNumber", "ErrorCode", "ErrorMessage",
"Record"}` (a whole unreadable object has no LineNumber or Record), CONDITION_CHECK_FAILURE records `{"S3Key",
"LineNumber", "Item", "ExistingItem"}` (ExistingItem absent when there was none). FailureCode values are not
documented; the stand-in uses InputS3Error, OutputS3Error, TableUnavailable, InternalError and, for CANCELLED,
OperationCancelled.
"""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import json
import math
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from botocore.exceptions import ClientError

from bot.demo.aws.bulk_state import BulkOperation, InputObject, ProcessingHold
from bot.demo.aws.clock import Clock, micros
from bot.demo.aws.export_files import put_object
from bot.demo.aws.front import AwsError, DynamoDbFront
from bot.demo.aws.history import History
from bot.demo.aws.ion_items import ion_records
from bot.demo.aws.tables import Item, index_image, item_size

ZSTD_AVAILABLE = importlib.util.find_spec("zstandard") is not None
RECORD_MEMBERS = frozenset({"Item", "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"})
SINK_BATCH = 25
_SHOWN_RECORD = 4096  # characters of a refused line kept in the ERROR report


class ItemSink(Protocol):
    """Where unconditional puts go instead of moto (the benchmark's: a BatchWriteItem sink, for the pace moto cannot
    keep); conditional puts still go through moto, which evaluates their conditions."""

    def write(self, table_name: str, items: list[Item]) -> None:
        """Write up to 25 items (DynamoDB JSON) into the table."""
        ...


class WritePacer:
    """At most `units_per_second` write units in each whole second of the stand-in clock."""

    def __init__(self, clock: Clock, units_per_second: int | None, stop: Callable[[], bool]) -> None:
        self.clock, self.rate, self.stop = clock, units_per_second, stop
        self._second, self._used = -1, 0

    def take(self, units: int) -> bool:
        """Wait until `units` fit in the current second; False when told to stop while waiting."""
        if self.rate is None:
            return True
        while True:
            second = micros(self.clock()) // 1_000_000
            if second != self._second:
                self._second, self._used = second, 0
            if self._used + units <= self.rate:
                self._used += units
                return True
            if self.stop():
                return False
            time.sleep(0.002)  # real time: the stand-in clock moves on its own (demo) or when the test moves it


class BulkRun:
    """Processes one operation; `run` is the thread's body."""

    def __init__(
        self,
        front: DynamoDbFront,
        history: History,
        operation: BulkOperation,
        hold: ProcessingHold,
        *,
        record_in_history: bool,
        stopping: threading.Event,
        sink: ItemSink | None = None,
    ) -> None:
        self.front, self.history, self.op, self.hold = front, history, operation, hold
        self.record_in_history, self.stopping = record_in_history, stopping
        self.sink = sink
        self._batch: list[Item] = []
        self.s3 = front.aws_client("s3", operation.caller)
        rate = operation.request.get("MaxWriteRequestUnits")
        self.pacer = WritePacer(front.clock, int(rate) if rate is not None else None, self._should_stop)

    def run(self) -> None:
        try:
            failure = self._process()
            self._flush()
        except Exception as error:  # a stand-in defect or an unexpected moto answer: the operation fails visibly
            failure = ("InternalError", f"The bulk operation failed: {error!r}")
        if not self.stopping.is_set():
            self._finish(failure)

    def _should_stop(self) -> bool:
        return self.stopping.is_set() or self.op.cancel_requested

    def _process(self) -> tuple[str, str] | None:
        with self.op.lock:
            self.op.total_bytes = sum(o.size for o in self.op.objects)
        source = self.op.request["InputS3Configuration"]
        for input_object in self.op.objects:
            if self._should_stop():
                return None
            try:
                raw = self.s3.get_object(Bucket=source["S3Bucket"], Key=input_object.key)["Body"].read()
            except ClientError as error:
                return "InputS3Error", f"Could not read s3://{source['S3Bucket']}/{input_object.key}: {_code(error)}"
            with self.op.lock:
                self.op.processed_bytes += len(raw)
            try:
                text = _decompress(raw, source.get("InputCompressionType", "NONE"))
            except (OSError, EOFError, zlib.error, ValueError) as error:
                entry = {"S3Key": input_object.key, "ErrorCode": "InvalidInputObject", "ErrorMessage": str(error)}
                self.op.add_error(entry, item=False)
                continue
            if source.get("InputFormat") == "ION":
                failure = self._ion(input_object, text)
            else:
                failure = self._lines(input_object, text)
            if failure is not None or self._should_stop():
                return failure
        return None

    def _lines(self, input_object: InputObject, text: bytes) -> tuple[str, str] | None:
        numbered = ((n, line, None) for n, line in enumerate(text.split(b"\n"), start=1) if line.strip())
        return self._records(input_object, numbered)

    def _ion(self, input_object: InputObject, text: bytes) -> tuple[str, str] | None:
        """Ion input: the object's top-level structs in turn (numbered from 1, as lines are); an object that is not
        Ion is refused whole."""
        try:
            records = ion_records(text)
        except ValueError as error:
            entry = {"S3Key": input_object.key, "ErrorCode": "InvalidInputObject", "ErrorMessage": str(error)}
            self.op.add_error(entry, item=False)
            return None
        numbered = ((n, json.dumps(r).encode(), r) for n, r in enumerate(records, start=1))
        return self._records(input_object, numbered)

    def _records(
        self, input_object: InputObject, numbered: Iterable[tuple[int, bytes, dict[str, Any] | None]]
    ) -> tuple[str, str] | None:
        for number, line, parsed in numbered:
            if self._should_stop():
                return None
            failure = self._line({"S3Key": input_object.key, "LineNumber": number}, line, parsed)
            if failure is not None:
                return failure
            self.hold.checkpoint(self.op.processed)
        return None

    def _line(self, source: dict[str, Any], line: bytes, parsed: dict[str, Any] | None) -> tuple[str, str] | None:
        try:
            record = _checked(parsed) if parsed is not None else _record(line)
            units = max(1, math.ceil(item_size(record["Item"]) / 1024))
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            self._refuse(source, line, "ValidationException", str(error))
            return None
        if not self.pacer.take(units):
            return None
        if self.sink is not None and set(record) == {"Item"}:
            self._sink(record["Item"])
            return None
        request = {
            "TableName": self.op.table.name,
            **record,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            self.history.put_item(self.op.caller, self.op.table, request, record=self.record_in_history)
        except AwsError as error:
            if error.code == "ConditionalCheckFailedException":
                self.op.add_condition_failure(source, record["Item"], error.extra.get("Item"))
            elif error.code in {"ValidationException", "SerializationException"}:
                self._refuse(source, line, error.code, error.message)
            else:
                return "TableUnavailable", f"Writing to {self.op.table.name} failed: {error.code}"
            return None
        self.op.add_written(item_size(record["Item"]), self._index_bytes(record["Item"]))
        return None

    def _sink(self, item: Item) -> None:
        """An unconditional put sent on to the sink, 25 at a time (counted as written when it is taken)."""
        self._batch.append(item)
        self.op.add_written(item_size(item), self._index_bytes(item))
        if len(self._batch) == SINK_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self.sink is not None and self._batch:
            self.sink.write(self.op.table.name, self._batch)
            self._batch = []

    def _refuse(self, source: dict[str, Any], line: bytes, code: str, message: str) -> None:
        shown = line.decode("utf-8", "replace")[:_SHOWN_RECORD]
        self.op.add_error({**source, "ErrorCode": code, "ErrorMessage": message, "Record": shown})

    def _index_bytes(self, item: Item) -> dict[str, int]:
        sizes = {}
        for index in self.op.table.indexes:
            image = index_image(self.op.table, index, item)
            if image is not None:
                sizes[index.name] = item_size(image)
        return sizes

    def _finish(self, failure: tuple[str, str] | None) -> None:
        with self.op.lock:
            cancelled = self.op.status == "CANCELLING"
            has_errors = bool(self.op.errors)
        if cancelled:
            status, failure = "CANCELLED", ("OperationCancelled", "The operation was cancelled by CancelBulkOperation")
        elif failure is not None:
            status = "FAILED"
        else:
            status = "COMPLETED_WITH_ERRORS" if has_errors else "COMPLETED"
        try:
            self._write_report(status)
        except ClientError as error:
            status, failure = "FAILED", ("OutputS3Error", f"The output report could not be written: {_code(error)}")
        with self.op.lock:
            self.op.status, self.op.failure, self.op.end = status, failure, self.front.clock()

    def _write_report(self, status: str) -> None:
        output = self.op.request["OutputS3Configuration"]
        folder = "/".join(p for p in (output.get("S3KeyPrefix", "").strip("/"), self.op.arn.rsplit("/", 1)[-1]) if p)
        with self.op.lock:
            records = {"ERROR": list(self.op.errors), "CONDITION_CHECK_FAILURE": list(self.op.condition_failures)}
            counts = {"processedItemCount": self.op.processed, "failedItemCount": self.op.failed}
        files = []
        for output_type in dict.fromkeys(output["OutputType"]):
            if records[output_type]:
                key = f"{folder}/{output_type}/part-00000.jsonl"
                body = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records[output_type])
                self._put(output, key, body)
                files.append({"outputType": output_type, "key": key, "recordCount": len(records[output_type])})
        manifest = {"bulkOperationArn": self.op.arn, "bulkOperationStatus": status, **counts, "files": files}
        self._put(output, f"{folder}/manifest.json", json.dumps(manifest).encode())

    def _put(self, output: dict[str, Any], key: str, body: bytes) -> None:
        owner, sse, kms_key = output.get("S3BucketOwner"), output.get("S3SseAlgorithm"), output.get("S3SseKmsKeyId")
        put_object(self.s3, output["S3Bucket"], key, body, owner=owner, sse=sse, kms_key=kms_key)


def _record(line: bytes) -> dict[str, Any]:
    """A line as a PutItem's members; raises ValueError saying what is wrong with it."""
    try:
        record = json.loads(line)
    except ValueError:
        raise ValueError("The line is not valid JSON") from None
    return _checked(record)


def _checked(record: Any) -> dict[str, Any]:
    """A parsed record (a JSON line, or an Ion struct mapped to DynamoDB JSON) as a PutItem's members."""
    if not isinstance(record, dict):
        raise ValueError("The line is not a JSON object")
    unknown = sorted(set(record) - RECORD_MEMBERS)
    if unknown:
        raise ValueError(f"Unknown member {unknown[0]!r}; a line holds Item and, optionally, a condition")
    if not isinstance(record.get("Item"), dict) or not record["Item"]:
        raise ValueError('The line has no "Item" object of DynamoDB JSON attributes')
    return record


def _decompress(raw: bytes, compression: str) -> bytes:
    if compression == "GZIP":
        return gzip.decompress(raw)
    if compression == "ZSTD":
        zstandard: Any = importlib.import_module("zstandard")  # optional; Start refuses ZSTD when it is absent
        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(raw))
    return raw


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))
