"""How each kind of restore runs: ImportTable and RestoreTableToPointInTime here, the loader in load.py.

Each executor can be called again for a request it already started (after a restart): ImportTable is found
again by the ImportArn stored before polling (and its ClientToken), a point-in-time restore by its table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError
from sqlalchemy import Connection

from bot.aws.accounts import Place
from bot.aws.errors import error_code, translate
from bot.background.claims import ClaimLost
from bot.background.fence import Fence
from bot.core import Core
from bot.errors import PreconditionFailed
from bot.restores.carryover import not_carried_over
from bot.restores.import_board import ImportStatusBoard
from bot.restores.models import ImportOptions, PitrOptions, RestoreRequest
from bot.restores.notify import RestoreOutcome, RestoreProgress
from bot.restores.outcome import ItemsDone, ItemsPromised, import_log_group, imported_items
from bot.restores.sources import verify_unchanged
from bot.restores.store import RestoreStore

DESCRIBE_EVERY_POLLS = 10  # while ListImports says "still running", DescribeImport (for progress) every 10 polls
IMPORT_DONE, IMPORT_FAILED = "COMPLETED", {"FAILED", "CANCELLED", "CANCELLING"}
PITR_UNPROMISED = (
    "a point-in-time restore has no manifest, and nothing recorded how many items the source table held at that moment"
)
PITR_UNCOUNTED = (
    "DynamoDB refreshes a table's ItemCount only about every six hours, so the new table's count is not known yet"
)


class Cancelled(Exception):
    """The restore pauses at a safe point: the bot is stopping (it resumes on the next start), or this runner lost
    its claim (the new holder resumes it)."""


@dataclass
class ExecutorContext:
    """What an executor may use: AWS through the core, the store, timing and a progress callback.

    `cancel` is the claim's halt: set when the bot stops or the claim is lost, and then nothing more may be
    written; `fence` is the claim itself, so what the executor records commits only while the claim is held.
    """

    core: Core
    store: RestoreStore
    place: Place
    cancel: threading.Event
    poll_seconds: float
    progress_seconds: float
    report: Callable[[RestoreProgress], None]
    fence: Fence | None = None

    def wait(self, seconds: float | None = None) -> None:
        """Sleep between polls; raises Cancelled when the bot is stopping or the claim was lost."""
        if self.cancel.wait(self.poll_seconds if seconds is None else seconds):
            raise Cancelled

    def check(self) -> None:
        """Raise Cancelled when the work must stop; called before every call that changes something in AWS."""
        if self.cancel.is_set():
            raise Cancelled

    def record_aws_ref(self, request_id: str, aws_ref: str) -> None:
        """Store what AWS returned while the claim is still ours; a runner that lost it stops here."""
        if self.fence is None:
            self.store.set_aws_ref(request_id, aws_ref)
            return
        self.fence.step("aws_called")
        with self.fenced() as connection:
            self.store.set_aws_ref(request_id, aws_ref, connection=connection)
        self.fence.step("recorded")

    @contextmanager
    def fenced(self) -> Iterator[Connection | None]:
        """A transaction for what the executor records, committed only while the claim is held; raises Cancelled
        (nothing recorded) once it is lost. None without a claim: record as usual."""
        if self.fence is None:
            yield None
            return
        try:
            with self.fence.fenced() as connection:
                yield connection
        except ClaimLost as lost:
            raise Cancelled from lost


class Executor(Protocol):
    """Runs one kind of restore."""

    def run(self, context: ExecutorContext, request: RestoreRequest) -> RestoreOutcome:
        """Run or resume the restore to its end; raises BotError when it fails, Cancelled when paused."""
        ...

    def resume_note(self, context: ExecutorContext, request: RestoreRequest) -> str:
        """What to tell people when a RUNNING request is picked up again after a restart."""
        ...


class ImportExecutor:
    """ImportTable into a new table, then follow it: DescribeImport when the shared ListImports board shows a
    change (or a progress report is due), else just wait."""

    def __init__(self, board: ImportStatusBoard | None = None) -> None:
        self._board = board

    def resume_note(self, context: ExecutorContext, request: RestoreRequest) -> str:
        """ImportTable runs inside AWS: a restart only resumes following it."""
        if request.aws_ref:
            return "Resumed after a restart: following the import DynamoDB is already running."
        return "Resumed after a restart: starting the import (its ClientToken prevents a second one)."

    def run(self, context: ExecutorContext, request: RestoreRequest) -> RestoreOutcome:
        """Start the import (once) and follow it."""
        plan, options = request.plan, request.plan.options_as(ImportOptions)
        client = context.core.aws.dynamodb(context.place)
        if not request.aws_ref:
            _require_source_unchanged(context, options)
        import_arn = request.aws_ref or self._start(context, request)
        started = time.monotonic()
        last_report = started
        last_described = float("-inf")
        while True:
            stale = time.monotonic() - last_described >= context.poll_seconds * DESCRIBE_EVERY_POLLS
            if not stale and self._listed_running(client, context.place, import_arn):
                context.wait()
                continue
            last_described = time.monotonic()
            try:
                description = client.describe_import(ImportArn=import_arn)["ImportTableDescription"]
            except Exception as exc:
                raise translate(exc, "dynamodb:DescribeImport", f"Import into `{plan.target}`") from exc
            status = description.get("ImportStatus", "IN_PROGRESS")
            if status == IMPORT_DONE:
                break
            if status in IMPORT_FAILED:
                raise _import_failed(request, description)
            if time.monotonic() - last_report >= context.progress_seconds:
                last_report = time.monotonic()
                context.report(
                    RestoreProgress(
                        items=description.get("ProcessedItemCount"),
                        elapsed_seconds=last_report - started,
                        note=f"ImportTable {status}",
                    )
                )
            context.wait()
        carry, unreachable = not_carried_over(context.core, options.source_table, plan.target)
        return RestoreOutcome(
            table_arn=description.get("TableArn"),
            item_count=description.get("ImportedItemCount"),
            duration_seconds=_seconds(description.get("StartTime"), description.get("EndTime")),
            not_carried_over=carry,
            source_unreachable=unreachable,
            details={
                "import_arn": import_arn,
                "processed_items": description.get("ProcessedItemCount"),
                "processed_bytes": description.get("ProcessedSizeBytes"),
                "errors": description.get("ErrorCount"),
            },
            promised=_promised(options),
            done=imported_items(description),
        )

    def _listed_running(self, client: Any, place: Place, import_arn: str) -> bool:
        return self._board is not None and self._board.status(client, place, import_arn) == "IN_PROGRESS"

    def _start(self, context: ExecutorContext, request: RestoreRequest) -> str:
        options = request.plan.options_as(ImportOptions)
        source: dict[str, Any] = {"S3Bucket": options.bucket, "S3KeyPrefix": options.key_prefix}
        if options.bucket_owner:
            source["S3BucketOwner"] = options.bucket_owner
        client: Any = context.core.aws.dynamodb(context.place)
        context.check()
        try:
            description = client.import_table(
                ClientToken=f"ddb-backup-bot-{request.id}",
                S3BucketSource=source,
                InputFormat=options.input_format,
                InputCompressionType=options.compression,
                TableCreationParameters=dict(options.table),
            )["ImportTableDescription"]
        except ClientError as exc:
            raise _import_refused(exc, request) from exc
        except Exception as exc:
            raise translate(exc, "dynamodb:ImportTable", f"Table `{request.target_display}`") from exc
        import_arn = str(description["ImportArn"])
        context.record_aws_ref(request.id, import_arn)
        return import_arn


def _promised(options: ImportOptions) -> ItemsPromised:
    """The export's item count bound into the plan (plans stored before it carry none)."""
    export = options.source_export
    if export is None or export.item_count is None:
        return ItemsPromised(None, "the plan holds no item count of the export")
    return ItemsPromised(export.item_count, export.count_basis or "the export")


def _require_source_unchanged(context: ExecutorContext, options: ImportOptions) -> None:
    """ImportTable must read the files that were approved: the export's manifests and its data folder are read
    again and compared with the plan's checksum (plans stored before it existed carry none)."""
    if options.source_export is not None:
        verify_unchanged(context.core, options.source_export, data_prefix=options.key_prefix)


def _import_refused(exc: ClientError, request: RestoreRequest) -> Exception:
    code = error_code(exc)
    if code in {"ResourceInUseException", "TableAlreadyExistsException"}:
        return PreconditionFailed(
            f"Table `{request.target_display}` was created by someone else after the request was approved; "
            "ImportTable never overwrites a table. Nothing was imported.",
            "Make a new request with another `to=` name.",
        )
    if code == "ImportConflictException":
        return PreconditionFailed(
            "DynamoDB refused the import: an import with the same ClientToken but other parameters exists.",
            "Make a new request.",
        )
    if code == "LimitExceededException":
        return PreconditionFailed(
            "DynamoDB's limit of 50 concurrent imports per account is reached. Nothing was imported.",
            "Wait for running imports to finish, then make a new request.",
        )
    return translate(exc, "dynamodb:ImportTable", f"Table `{request.target_display}`")


def _import_failed(request: RestoreRequest, description: Any) -> Exception:
    code = str(description.get("FailureCode") or "")
    message = str(description.get("FailureMessage") or "no reason given")
    said = f"{code}: {message}" if code else message
    advice = (
        f"Some items were rejected: details are in {import_log_group(description)}."
        if "validation" in code.lower()
        else "Check the message above; the bot's role needs s3:GetObject and s3:ListBucket on the export."
    )
    return PreconditionFailed(
        f"ImportTable into `{request.target_display}` ended {description.get('ImportStatus')}: {said}.",
        f"{advice} If table `{request.target_display}` was left behind, delete it before trying again.",
    )


class PitrExecutor:
    """RestoreTableToPointInTime, then DescribeTable until the new table is ACTIVE."""

    def resume_note(self, context: ExecutorContext, request: RestoreRequest) -> str:
        """The restore runs inside AWS: a restart only resumes following it."""
        return "Resumed after a restart: following the point-in-time restore DynamoDB is running."

    def run(self, context: ExecutorContext, request: RestoreRequest) -> RestoreOutcome:
        """Start the restore (once) and wait for the table."""
        plan, options = request.plan, request.plan.options_as(PitrOptions)
        client = context.core.aws.dynamodb(context.place)
        if not request.aws_ref:
            self._start(context, request)
        started = time.monotonic()
        last_report = started
        while True:
            try:
                table = client.describe_table(TableName=plan.target)["Table"]
            except Exception as exc:
                raise translate(exc, "dynamodb:DescribeTable", f"Table `{request.target_display}`") from exc
            summary: dict[str, Any] = dict(table.get("RestoreSummary") or {})
            if table.get("TableStatus") == "ACTIVE" and not summary.get("RestoreInProgress"):
                break
            if time.monotonic() - last_report >= context.progress_seconds:
                last_report = time.monotonic()
                context.report(
                    RestoreProgress(elapsed_seconds=last_report - started, note=f"table {table.get('TableStatus')}")
                )
            context.wait()
        carry, unreachable = not_carried_over(context.core, options.source_table, plan.target)
        return RestoreOutcome(
            table_arn=table.get("TableArn"),
            duration_seconds=time.monotonic() - started,
            not_carried_over=carry,
            source_unreachable=unreachable,
            details={"restore_time": options.as_dict()["restore_time"]},
            promised=ItemsPromised(None, PITR_UNPROMISED),
            done=ItemsDone(None, PITR_UNCOUNTED),
        )

    def _start(self, context: ExecutorContext, request: RestoreRequest) -> None:
        options = request.plan.options_as(PitrOptions)
        source = options.source_table
        params: dict[str, Any] = {"SourceTableName": source.name, "TargetTableName": request.plan.target}
        if options.restore_time is None:
            params["UseLatestRestorableTime"] = True
        else:
            params["RestoreDateTime"] = options.restore_time
        if options.billing_mode:
            params["BillingModeOverride"] = options.billing_mode
        client: Any = context.core.aws.dynamodb(context.place)
        context.check()
        try:
            description = client.restore_table_to_point_in_time(**params)["TableDescription"]
        except ClientError as exc:
            if error_code(exc) == "TableAlreadyExistsException" and self._ours(context, request, source.arn):
                return
            if error_code(exc) == "TableAlreadyExistsException":
                raise PreconditionFailed(
                    f"Table `{request.target_display}` was created by someone else after the request was approved; "
                    "nothing was restored.",
                    "Make a new request with another `to=` name.",
                ) from exc
            raise translate(exc, "dynamodb:RestoreTableToPointInTime", f"Table `{source.name}`") from exc
        except Exception as exc:
            raise translate(exc, "dynamodb:RestoreTableToPointInTime", f"Table `{source.name}`") from exc
        context.record_aws_ref(request.id, str(description.get("TableArn") or request.plan.target))

    def _ours(self, context: ExecutorContext, request: RestoreRequest, source_arn: str | None) -> bool:
        """A table of that name restored from our source: our own earlier call (the bot stopped before noting it)."""
        client = context.core.aws.dynamodb(context.place)
        table: dict[str, Any] = dict(client.describe_table(TableName=request.plan.target)["Table"])
        if source_arn and dict(table.get("RestoreSummary") or {}).get("SourceTableArn") == source_arn:
            context.record_aws_ref(request.id, str(table.get("TableArn")))
            return True
        return False


def _seconds(start: Any, end: Any) -> float | None:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return (end - start).total_seconds()
    return None
