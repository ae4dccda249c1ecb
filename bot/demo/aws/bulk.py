"""StartBulkPutItems, DescribeBulkOperation, ListBulkOperations and CancelBulkOperation, as the API model and the
developer guide describe them (moto 5.2.6 has none of them).

Start validates the request against the model, then: OutputS3Configuration.S3Bucket is required (the shape's text);
S3SseKmsKeyId only with KMS; ZSTD only when `zstandard` is installed → ValidationException (DynamoDB JSON and Ion
input are read: bulk_run.py); the table must exist (ResourceNotFoundException) and be ACTIVE or UPDATING
(ResourceInUseException; `busy_tables` marks a table as busy, e.g. creating an index, since moto's never are); a
global table is refused (moto has no global tables: `global_tables` marks names or ARNs, and DescribeTable then shows
them with replicas as AWS does; NOT CONFIRMED which code AWS answers, `BulkChoices.global_table_error`,
ValidationException by default). ClientToken: the same token and
parameters within 8 hours → the same operation, other parameters → IdempotentParameterMismatchException. Quotas →
LimitExceededException: at most 50,000 input objects of at most 5 GB each (documented); operations in progress per
table and per account (NOT CONFIRMED numbers: 1 and 10 by default, `BulkQuotas`).

Processing runs in a thread per operation (bulk_run.py). Cancel is asynchronous: CANCELLING at once, CANCELLED when
the runner stops; items already written stay written. Cancelling a finished operation is NOT CONFIRMED:
`BulkChoices.cancel_finished` = "error" (default: ValidationException naming the status) or "status" (answer the
terminal status unchanged). Whether bulk writes reach PITR (and so later exports) is NOT CONFIRMED:
`BulkChoices.record_in_history` (default True). Operation ARN format (not documented):
`<table ARN>/bulk-operation/<epoch ms, 14 digits>-<8 hex>`.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from bot.demo.aws.bulk_run import ZSTD_AVAILABLE, BulkRun, ItemSink
from bot.demo.aws.bulk_state import ACTIVE, TERMINAL, BulkOperation, InputObject, ProcessingHold
from bot.demo.aws.clock import micros
from bot.demo.aws.front import AwsError, Caller, DynamoDbCall, DynamoDbFront, IncomingRequest
from bot.demo.aws.history import History
from bot.demo.aws.tables import TableInfo, describe_table
from bot.demo.aws.tokens import ClientTokens
from bot.demo.aws.validation import validate_request


@dataclass(frozen=True)
class BulkQuotas:
    """LimitExceededException thresholds; the concurrency numbers are guesses (the quotas page was not readable)."""

    max_input_objects: int = 50_000
    max_object_bytes: int = 5 * 1024**3
    active_per_table: int = 1
    active_per_account: int = 10


@dataclass(frozen=True)
class BulkChoices:
    """The NOT CONFIRMED behaviours, switchable."""

    record_in_history: bool = True
    cancel_finished: str = "error"  # "error" | "status"
    global_table_error: str = "ValidationException"


class BulkPutItems:
    """The bulk operations of every account behind the front."""

    def __init__(
        self,
        front: DynamoDbFront,
        history: History,
        *,
        quotas: BulkQuotas | None = None,
        choices: BulkChoices | None = None,
    ) -> None:
        self.front, self.history = front, history
        self.quotas, self.choices = quotas or BulkQuotas(), choices or BulkChoices()
        self.global_tables: set[str] = set()
        self.busy_tables: dict[str, str] = {}  # table name → why it is busy (ResourceInUseException)
        self.hold = ProcessingHold()
        self.sink: ItemSink | None = None  # the benchmark's: unconditional puts go there instead of moto
        self._operations: dict[str, BulkOperation] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._tokens = ClientTokens(
            front.clock,
            "IdempotentParameterMismatchException",
            "DynamoDB rejected the request because you retried a request with a different payload but with an "
            "idempotent token that was already used.",
        )
        front.add_gate(self._on_reset)
        front.handle("StartBulkPutItems", self._start)
        front.handle("DescribeBulkOperation", self._describe)
        front.handle("ListBulkOperations", self._list)
        front.handle("CancelBulkOperation", self._cancel)
        front.handle("DescribeTable", self._describe_table)

    def operations(self) -> list[BulkOperation]:
        with self._lock:
            return list(self._operations.values())

    def stop(self) -> None:
        """Stop every runner (the front is closing); their operations stay as they were."""
        self._stopping.set()
        self.hold.resume()
        for thread in self._threads:
            thread.join(timeout=10)

    def _start(self, call: DynamoDbCall) -> dict[str, Any]:
        validate_request("StartBulkPutItems", call.body)
        _check_configuration(call.body)
        table = describe_table(self.front, call.caller, str(call.body["TableName"]))
        if {table.name, table.arn} & self.global_tables or table.has_replicas:
            raise AwsError(
                self.choices.global_table_error,
                f"Bulk operations are not supported on global tables: {table.name} is part of a global table",
            )
        busy = self.busy_tables.get(table.name) or (None if table.status in {"ACTIVE", "UPDATING"} else table.status)
        if busy:
            raise AwsError(
                "ResourceInUseException", f"Table {table.name} is not available for a bulk operation: {busy}"
            )
        parameters = {k: v for k, v in call.body.items() if k not in {"ClientToken", "TableName"}}
        parameters["TableArn"] = table.arn
        token = call.body.get("ClientToken")
        arn = self._tokens.once(table.account, token, parameters, lambda: self._begin(call, table))
        with self._lock:
            return {"BulkOperationDescription": self._operations[arn].description()}

    def _begin(self, call: DynamoDbCall, table: TableInfo) -> str:
        with self._lock:
            active = [o for o in self._operations.values() if o.account == table.account and o.status in ACTIVE]
        if sum(o.table.arn == table.arn for o in active) >= self.quotas.active_per_table:
            raise AwsError("LimitExceededException", f"Too many bulk operations in progress on table {table.name}")
        if len(active) >= self.quotas.active_per_account:
            raise AwsError("LimitExceededException", "Too many bulk operations in progress in this account")
        now = self.front.clock()
        arn = f"{table.arn}/bulk-operation/{micros(now) // 1000:014d}-{secrets.token_hex(4)}"
        operation = BulkOperation(arn, call.caller, table.account, table, dict(call.body), now, [])
        try:
            operation.objects = self._input_objects(call.caller, call.body["InputS3Configuration"])
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "Unknown"))
            operation.status, operation.end = "FAILED", now
            operation.failure = ("InputS3Error", f"The input location could not be listed: {code}")
        with self._lock:
            self._operations[arn] = operation
        if operation.status == "IN_PROGRESS":
            run = BulkRun(
                self.front, self.history, operation, self.hold,
                record_in_history=self.choices.record_in_history, stopping=self._stopping, sink=self.sink,
            )  # fmt: skip
            thread = threading.Thread(target=run.run, daemon=True, name=f"bulk-{arn[-8:]}")
            self._threads.append(thread)
            thread.start()
        return arn

    def _input_objects(self, caller: Caller, source: dict[str, Any]) -> list[InputObject]:
        """The objects under the prefix, checked against the per-operation quotas."""
        pages = self.front.aws_client("s3", caller).get_paginator("list_objects_v2").paginate(
            Bucket=source["S3Bucket"], Prefix=source.get("S3KeyPrefix", "")
        )  # fmt: skip
        objects = [
            InputObject(o["Key"], int(o["Size"]))
            for page in pages
            for o in page.get("Contents", [])
            if not o["Key"].endswith("/")
        ]
        if len(objects) > self.quotas.max_input_objects:
            raise AwsError(
                "LimitExceededException",
                f"The input has {len(objects)} objects; a bulk operation reads at most {self.quotas.max_input_objects}",
            )
        too_big = next((o for o in objects if o.size > self.quotas.max_object_bytes), None)
        if too_big is not None:
            raise AwsError(
                "LimitExceededException",
                f"Input object {too_big.key} is {too_big.size} bytes; each object may be at most "
                f"{self.quotas.max_object_bytes} bytes",
            )
        return objects

    def _describe_table(self, call: DynamoDbCall) -> dict[str, Any]:
        """moto's DescribeTable, and for a table marked global (moto has no global tables) what AWS shows of one:
        its replicas (this Region and another) and GlobalTableVersion."""
        answer = self.front.call_moto(call.caller, "DescribeTable", call.body)
        table = answer.get("Table") or {}
        if {table.get("TableName"), table.get("TableArn")} & self.global_tables:
            other = "eu-west-1" if call.caller.region != "eu-west-1" else "us-west-2"
            table["Replicas"] = [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in (call.caller.region, other)]
            table["GlobalTableVersion"] = "2019.11.21"
        return answer

    def _operation(self, call: DynamoDbCall) -> BulkOperation:
        validate_request(call.operation, call.body)
        arn = str(call.body["BulkOperationArn"])
        with self._lock:
            operation = self._operations.get(arn)
        if operation is None or operation.account != self.front.account_of(call.caller):
            raise AwsError("ResourceNotFoundException", f"Bulk operation not found: {arn}")
        return operation

    def _describe(self, call: DynamoDbCall) -> dict[str, Any]:
        return {"BulkOperationDescription": self._operation(call).description()}

    def _cancel(self, call: DynamoDbCall) -> dict[str, Any]:
        operation = self._operation(call)
        with operation.lock:
            if operation.status == "IN_PROGRESS":
                operation.status = "CANCELLING"
            elif operation.status in TERMINAL and self.choices.cancel_finished == "error":
                raise AwsError(
                    "ValidationException",
                    f"Bulk operation {operation.arn} is already {operation.status} and cannot be cancelled",
                )
            return {"BulkOperationArn": operation.arn, "BulkOperationStatus": operation.status}

    def _list(self, call: DynamoDbCall) -> dict[str, Any]:
        validate_request("ListBulkOperations", call.body)
        account, region = self.front.account_of(call.caller), call.caller.region
        mine = [o for o in self.operations() if o.account == account and o.arn.split(":")[3] == region]
        mine.sort(key=lambda o: o.start, reverse=True)
        offset = int(call.body.get("NextToken") or "0", 16)
        size = int(call.body.get("MaxResults") or 10)
        page: dict[str, Any] = {"BulkOperationsSummaryList": [o.summary() for o in mine[offset : offset + size]]}
        if offset + size < len(mine):
            page["NextToken"] = f"{offset + size:016x}"
        return page

    def _on_reset(self, request: IncomingRequest) -> None:
        if request.path.startswith("/moto-api/reset"):
            with self._lock:
                for operation in self._operations.values():
                    with operation.lock:
                        if operation.status == "IN_PROGRESS":
                            operation.status = "CANCELLING"  # its runner stops at the next item
                self._operations.clear()
            self._tokens.clear()


def _check_configuration(body: dict[str, Any]) -> None:
    """The constraints the model states in text rather than in its shapes, and what the stand-in cannot read."""
    source, output = body["InputS3Configuration"], body["OutputS3Configuration"]
    problems = []
    if not output.get("S3Bucket"):
        problems.append("OutputS3Configuration.S3Bucket is required")
    if not output.get("OutputType"):
        problems.append("OutputS3Configuration.OutputType must list ERROR and/or CONDITION_CHECK_FAILURE")
    if output.get("S3SseKmsKeyId") and output.get("S3SseAlgorithm") != "KMS":
        problems.append("OutputS3Configuration.S3SseKmsKeyId may be given only with S3SseAlgorithm KMS")
    if source.get("InputCompressionType") == "ZSTD" and not ZSTD_AVAILABLE:
        problems.append("ZSTD input cannot be read here: the zstandard package is not installed")
    if problems:
        raise AwsError("ValidationException", "; ".join(problems))
