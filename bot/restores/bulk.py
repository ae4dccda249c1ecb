"""The full export of an `into=` restore written by DynamoDB's own bulk put (StartBulkPutItems), followed to its end.

Started once per request: its ClientToken is derived from the request and its plan, so a replica that takes the
restore over after a crash asks again with the same token and gets the same operation (AWS: same token and
parameters within 8 hours); the operation's ARN is recorded in the claim's fenced transaction as soon as Start
returns, and a replica that finds it recorded only follows it (DescribeBulkOperation). An operator's cancel becomes
CancelBulkOperation, followed until CANCELLED (items already written stay written). At the end, the failed-items
report is read from S3 and summarised (bot.restores.bulk_report).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.accounts import Place
from bot.aws.errors import error_code, translate
from bot.errors import PreconditionFailed
from bot.restores.bulk_options import BulkPut
from bot.restores.bulk_report import ReportSummary, read_report
from bot.restores.executors import ExecutorContext, Withdrawn
from bot.restores.models import LoadOptions, RestoreRequest
from bot.restores.notify import RestoreProgress
from bot.restores.sources import verify_unchanged

logger = logging.getLogger(__name__)

FINISHED = frozenset({"COMPLETED", "COMPLETED_WITH_ERRORS"})
STOPPED = frozenset({"CANCELLED", "FAILED"})
LIST_PAGES = 4  # ListBulkOperations pages looked through for our own operation (25 each, newest first)


@dataclass(frozen=True)
class BulkResult:
    """How the operation ended: its counts (DescribeBulkOperation), what the report says, and why it stopped."""

    operation_arn: str
    status: str
    processed: int
    failed: int
    bytes_read: int | None
    total_bytes: int | None
    report: ReportSummary | None
    failure: str | None
    duration_seconds: float | None

    @property
    def finished(self) -> bool:
        """Every input item was processed (COMPLETED, or COMPLETED_WITH_ERRORS)."""
        return self.status in FINISHED

    @property
    def conditions(self) -> int | None:
        """Items whose condition was false (only the report counts them; DynamoDB's FailedItemCount does not)."""
        return self.report.conditions if self.report is not None else None

    @property
    def written(self) -> int | None:
        """Items put: processed minus failed minus condition failures (None while the latter is unknown)."""
        conditions = self.conditions
        return None if conditions is None else max(0, self.processed - self.failed - conditions)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the stored result."""
        return {
            "operation_arn": self.operation_arn,
            "status": self.status,
            "processed": self.processed,
            "failed": self.failed,
            "conditions": self.conditions,
            "written": self.written,
            "bytes_read": self.bytes_read,
            "total_bytes": self.total_bytes,
            "report": self.report.as_dict() if self.report else None,
            "failure": self.failure,
        }


def client_token(request: RestoreRequest) -> str:
    """Stable for a request and its plan: every replica asks with the same one, a retry (a new request) with a new
    one."""
    return f"ddb-backup-bot-{request.id}-{request.plan_hash[:16]}"


class BulkPhase:
    """Starts (once) and follows the bulk put of a request's full export."""

    def run(self, context: ExecutorContext, request: RestoreRequest) -> BulkResult:
        """Start or find the operation, follow it to a terminal status (cancelling it when an operator asked), and
        read its report; raises Withdrawn when cancelled before it started, Cancelled when the claim halts."""
        options = request.plan.options_as(LoadOptions)
        bulk = options.bulk
        assert bulk is not None, "a bulk phase needs a plan with bulk put"
        client: Any = context.core.aws.dynamodb(context.place)
        arn = request.aws_ref
        if arn is None:
            if context.withdrawn.is_set():
                raise Withdrawn(None)
            verify_unchanged(
                context.core,
                replace(options.exports[0], manifest_md5=bulk.input_checksum),
                data_prefix=bulk.key_prefix,
            )
            arn = self._start(context, request, bulk)
        description = self._follow(context, request, client, arn, bulk)
        report_place = Place(request.plan.alias, request.plan.region)
        report = read_report(
            context.core.aws.s3(report_place),
            bulk.report_bucket,
            bulk.report_folder(request.id),
            options.key_names,
            owner=bulk.report_owner,
        )
        return _result(arn, description, report)

    def _start(self, context: ExecutorContext, request: RestoreRequest, bulk: BulkPut) -> str:
        client: Any = context.core.aws.dynamodb(context.place)
        parameters: dict[str, Any] = {
            "TableName": request.plan.target,
            "InputS3Configuration": bulk.input_configuration(),
            "OutputS3Configuration": bulk.output_configuration(request.id),
            "MaxWriteRequestUnits": bulk.max_write_units,
            "PerformanceTier": bulk.tier.aws_name,
            "ClientToken": client_token(request),
        }
        context.check()
        try:
            description = client.start_bulk_put_items(**parameters)["BulkOperationDescription"]
        except ClientError as exc:
            ours = self._ours(client, request) if error_code(exc) == "LimitExceededException" else None
            if ours is None:
                raise _start_refused(exc, request) from exc
            arn = ours
        except Exception as exc:
            raise translate(exc, "dynamodb:StartBulkPutItems", f"Table `{request.target_display}`") from exc
        else:
            arn = str(description["BulkOperationArn"])
        context.record_aws_ref(request.id, arn)
        logger.info("restore.bulk_started", extra={"restore_id": request.id})
        return arn

    def _ours(self, client: Any, request: RestoreRequest) -> str | None:
        """An operation in progress with this request's ClientToken (one AWS no longer matches by token after 8
        hours, so Start saw only "an operation is running on the table"): found through ListBulkOperations."""
        token, kwargs = client_token(request), {"MaxResults": 25}
        for _ in range(LIST_PAGES):
            page = client.list_bulk_operations(**kwargs)
            for summary in page.get("BulkOperationsSummaryList", []):
                if summary.get("BulkOperationStatus") not in {"IN_PROGRESS", "CANCELLING"}:
                    continue
                arn = str(summary["BulkOperationArn"])
                found = client.describe_bulk_operation(BulkOperationArn=arn)["BulkOperationDescription"]
                if found.get("ClientToken") == token:
                    return arn
            if not page.get("NextToken"):
                return None
            kwargs["NextToken"] = page["NextToken"]
        return None

    def _follow(
        self, context: ExecutorContext, request: RestoreRequest, client: Any, arn: str, bulk: BulkPut
    ) -> dict[str, Any]:
        """DescribeBulkOperation every poll until a terminal status; progress every progress interval."""
        started = time.monotonic()
        last_report = started
        cancel_sent = False
        while True:
            try:
                description: dict[str, Any] = client.describe_bulk_operation(BulkOperationArn=arn)[
                    "BulkOperationDescription"
                ]
            except Exception as exc:
                raise translate(
                    exc, "dynamodb:DescribeBulkOperation", f"Bulk put into `{request.target_display}`"
                ) from exc
            status = str(description.get("BulkOperationStatus") or "IN_PROGRESS")
            if status in FINISHED | STOPPED:
                return description
            if context.withdrawn.is_set() and not cancel_sent and status == "IN_PROGRESS":
                cancel_sent = self._cancel(context, client, arn, request)
            if time.monotonic() - last_report >= context.progress_seconds:
                last_report = time.monotonic()
                context.report(_progress(description, last_report - started, bulk))
            context.wait()

    def _cancel(self, context: ExecutorContext, client: Any, arn: str, request: RestoreRequest) -> bool:
        """CancelBulkOperation; a refusal because it already ended is fine (the next Describe says how it ended)."""
        context.check()
        try:
            client.cancel_bulk_operation(BulkOperationArn=arn)
        except ClientError as exc:
            if error_code(exc) not in {"ValidationException", "ResourceInUseException"}:
                raise translate(
                    exc, "dynamodb:CancelBulkOperation", f"Bulk put into `{request.target_display}`"
                ) from exc
        logger.info("restore.bulk_cancel_sent", extra={"restore_id": request.id})
        return True


def _result(arn: str, description: dict[str, Any], report: ReportSummary) -> BulkResult:
    code, message = description.get("FailureCode"), description.get("FailureMessage")
    failure = f"{code}: {message}" if code and message else (str(code or message) if code or message else None)
    start, end = description.get("StartTime"), description.get("EndTime")
    seconds = (end - start).total_seconds() if isinstance(start, datetime) and isinstance(end, datetime) else None
    return BulkResult(
        operation_arn=arn,
        status=str(description.get("BulkOperationStatus")),
        processed=_count(description.get("ProcessedItemCount")),
        failed=_count(description.get("FailedItemCount")),
        bytes_read=description.get("ProcessedInputBytes"),
        total_bytes=description.get("TotalInputBytes"),
        report=report,
        failure=failure,
        duration_seconds=seconds,
    )


def _progress(description: dict[str, Any], elapsed: float, bulk: BulkPut) -> RestoreProgress:
    """What DescribeBulkOperation says so far; the ETA from the bytes read against the input's total size (which
    appears once DynamoDB measured it)."""
    processed, total = description.get("ProcessedInputBytes"), description.get("TotalInputBytes")
    eta = None
    if isinstance(processed, int) and isinstance(total, int) and 0 < processed < total:
        eta = elapsed * (total - processed) / processed
    return RestoreProgress(
        items=_count(description.get("ProcessedItemCount")),
        elapsed_seconds=elapsed,
        eta_seconds=eta,
        ceiling_units=bulk.max_write_units,
        bytes_done=processed if isinstance(processed, int) else None,
        bytes_total=total if isinstance(total, int) else None,
        failed_items=_count(description.get("FailedItemCount")),
        note=f"bulk put {description.get('BulkOperationStatus', 'IN_PROGRESS')}",
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _start_refused(exc: ClientError, request: RestoreRequest) -> Exception:
    code = error_code(exc)
    table = f"`{request.target_display}`"
    if code == "LimitExceededException":
        return PreconditionFailed(
            f"DynamoDB refused the bulk put into {table}: another bulk operation is running on the table or too many "
            "run in the account. Nothing was written.",
            "Wait for it to finish (or cancel it), then `/ddb-restore retry " + request.id + "`.",
        )
    if code == "ResourceInUseException":
        return PreconditionFailed(
            f"DynamoDB refused the bulk put into {table}: the table is busy (an index being built, or a change in "
            "progress). Nothing was written.",
            "Wait until the table is ACTIVE, then `/ddb-restore retry " + request.id + "`.",
        )
    if code == "IdempotentParameterMismatchException":
        return PreconditionFailed(
            f"DynamoDB refused the bulk put into {table}: an operation with this request's ClientToken was started "
            "with other parameters. Nothing was written.",
            "`/ddb-restore retry " + request.id + "` asks again with a new token.",
        )
    return translate(exc, "dynamodb:StartBulkPutItems", f"Table {table}")
