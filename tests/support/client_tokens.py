"""ClientToken as AWS documents it, for moto, which ignores it: ExportTableToPointInTime and ImportTable called
again with a token seen within 8 hours and the same parameters answer with the export or import already started
(no second one); the same token with other parameters is refused (ExportConflictException, ImportConflictException).

A work item taken over after its holder died between the AWS call and recording its answer repeats the call: only
this makes "exactly one export" provable against moto.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TokenLedger:
    """What the stand-in saw: per (operation, token) the parameters and the ARN it answered with."""

    seen: dict[tuple[str, str], tuple[dict[str, Any], str]] = field(default_factory=dict)
    started: dict[str, int] = field(default_factory=lambda: {"export": 0, "import": 0})  # distinct ones moto made
    asked: Counter[str] = field(default_factory=Counter)  # calls per table name (TableArn's or TableName's last part)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def client_tokens_honoured() -> Iterator[TokenLedger]:
    """Patch moto's DynamoDB handler (in this process, where the test's moto server runs) for the block."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.responses import DynamoHandler

    ledger = TokenLedger()
    original_export = DynamoHandler.export_table_to_point_in_time
    original_import = DynamoHandler.import_table

    def idempotent(
        operation: str, conflict: str, described: Callable[[Any, str], Any], wrapper: str, original: Any
    ) -> Callable[[Any], Any]:
        def handle(handler: Any) -> Any:
            token = handler.body.get("ClientToken")
            parameters = {k: v for k, v in handler.body.items() if k != "ClientToken"}
            table = str(handler.body.get("TableArn") or "").rsplit("/", 1)[-1]
            with ledger.lock:
                ledger.asked[f"{operation}:{table}"] += 1
                if token and (operation, token) in ledger.seen:
                    before, arn = ledger.seen[(operation, token)]
                    if before != parameters:
                        raise DynamodbException(conflict, f"ClientToken {token} was used with other parameters")
                    return ActionResult({wrapper: described(handler.dynamodb_backend, arn).response()})
                result = original(handler)
                arn = str(result.result[wrapper][_ARN[operation]])  # type: ignore[index]
                ledger.started[operation] += 1
                if token:
                    ledger.seen[(operation, token)] = (parameters, arn)
                return result

        return handle

    DynamoHandler.export_table_to_point_in_time = idempotent(  # type: ignore[method-assign]
        "export",
        "ExportConflictException",
        lambda backend, arn: backend.describe_export(arn),
        "ExportDescription",
        original_export,
    )
    DynamoHandler.import_table = idempotent(  # type: ignore[method-assign]
        "import",
        "ImportConflictException",
        lambda backend, arn: backend.describe_import(arn),
        "ImportTableDescription",
        original_import,
    )
    try:
        yield ledger
    finally:
        DynamoHandler.export_table_to_point_in_time = original_export  # type: ignore[method-assign]
        DynamoHandler.import_table = original_import  # type: ignore[method-assign]


_ARN = {"export": "ExportArn", "import": "ImportArn"}
