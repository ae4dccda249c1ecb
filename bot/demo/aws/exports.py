"""ExportTableToPointInTime, DescribeExport and ListExports as AWS answers them, from the stand-in's history.

moto's exports ignore ExportTime, incremental settings and FilterSpecification and write one file without
manifests; this stand-in answers every export request itself: the table's state at ExportTime (default now) or its
changes over [ExportFromTime, ExportToTime), filtered by moto on scratch tables (export_filter.py), written to moto's
S3 in AWS's layout (export_files.py). Validation as AWS documents it: the request against the API model; unknown
table → TableNotFoundException; PITR off → PointInTimeRecoveryUnavailableException; a time outside [earliest
restorable, now] → InvalidExportTimeException; an incremental window under 15 minutes or over 24 hours →
`window_error_code` (NOT CONFIRMED which code AWS answers: ValidationException by default); more than 300 exports
in progress in the account → LimitExceededException (`max_in_progress`); ClientToken reused
within 8 hours: same parameters → the same export, other parameters → ExportConflictException (the model's text).
ION exports are written as Ion text, one struct per line, in `.ion.gz` data files (bot/demo/aws/ion_items.py).

An export answers IN_PROGRESS until `ExportPacing` lets it finish (by default at its second DescribeExport); its data
and manifests are written then, `_started` at once. ExportId = `<epoch ms, 14 digits>-<8 hex>`. ListExports merges
these with moto's own exports.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from bot.demo.aws.clock import epoch_seconds, from_epoch_seconds, micros
from bot.demo.aws.export_files import ExportTarget, iso_millis, manifest_summary, write_export, write_started
from bot.demo.aws.export_filter import ExportFilter, ScratchEvaluator, hide_scratch_tables
from bot.demo.aws.export_records import ExportContent, full_export, incremental_export
from bot.demo.aws.front import AwsError, Caller, DynamoDbCall, DynamoDbFront, IncomingRequest
from bot.demo.aws.history import History
from bot.demo.aws.pitr import PointInTimeRecovery, Window
from bot.demo.aws.tables import TableInfo, describe_table
from bot.demo.aws.tokens import ClientTokens
from bot.demo.aws.validation import validate_request

SHORTEST_WINDOW, LONGEST_WINDOW = timedelta(minutes=15), timedelta(hours=24)


@dataclass(frozen=True)
class ExportPacing:
    """When an export finishes: after `describes` DescribeExport calls answered IN_PROGRESS, or once `seconds` have
    passed on the stand-in clock (None: that rule is off)."""

    describes: int | None = 1
    seconds: float | None = None


@dataclass
class StandInExport:
    """One export the stand-in started."""

    caller: Caller
    table: TableInfo
    export_id: str
    start: datetime
    description: dict[str, Any]
    summary: dict[str, Any]
    target: ExportTarget
    content: ExportContent
    describes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def arn(self) -> str:
        return str(self.description["ExportArn"])


class Exports:
    """The export operations, for every table behind the front."""

    def __init__(
        self,
        front: DynamoDbFront,
        history: History,
        pitr: PointInTimeRecovery,
        *,
        pacing: ExportPacing | None = None,
        lines_per_file: int = 1000,
        window_error_code: str = "ValidationException",
        max_in_progress: int = 300,
    ) -> None:
        self.front, self.history, self.pitr = front, history, pitr
        self.pacing = pacing or ExportPacing()
        self.lines_per_file = lines_per_file
        self.window_error_code = window_error_code
        self.max_in_progress = max_in_progress  # AWS: 300 exports in progress per account
        self._exports: dict[str, StandInExport] = {}
        self._lock = threading.Lock()
        self._tokens = ClientTokens(
            front.clock,
            "ExportConflictException",
            "There was a conflict when writing to the specified S3 bucket: "
            "the ClientToken was already used with other parameters",
        )
        front.add_gate(self._on_reset)
        front.handle("ExportTableToPointInTime", self._export)
        front.handle("DescribeExport", self._describe)
        front.handle("ListExports", self._list)
        hide_scratch_tables(front)

    def exports(self) -> list[StandInExport]:
        with self._lock:
            return list(self._exports.values())

    def _export(self, call: DynamoDbCall) -> dict[str, Any]:
        validate_request("ExportTableToPointInTime", call.body)
        try:
            table = describe_table(self.front, call.caller, str(call.body["TableArn"]))
        except AwsError as error:
            if error.code != "ResourceNotFoundException":
                raise
            raise AwsError("TableNotFoundException", f"Table not found: {call.body['TableArn']}") from None
        parameters = {k: v for k, v in call.body.items() if k != "ClientToken"}
        token = call.body.get("ClientToken")
        arn = self._tokens.once(table.account, token, parameters, lambda: self._start(call, table))
        with self._lock:
            export = self._exports[arn]
        return {"ExportDescription": self._current(export, described=False)}

    def _start(self, call: DynamoDbCall, table: TableInfo) -> str:
        running = [e for e in self.exports() if e.table.account == table.account and _status(e) == "IN_PROGRESS"]
        if len(running) >= self.max_in_progress:
            raise AwsError("LimitExceededException", f"There are {len(running)} exports in progress in this account")
        window = self.pitr.window(call.caller, table)
        if window is None:
            raise AwsError(
                "PointInTimeRecoveryUnavailableException",
                f"Point in time recovery is not enabled for table '{table.name}'",
            )
        spec = ExportFilter.of(call.body.get("FilterSpecification"))
        if spec is not None:
            spec.check(table)
        body, now = call.body, self.front.clock()
        timeline = self.history.timeline(call.caller, table)
        evaluator = ScratchEvaluator(self.front, call.caller)
        description: dict[str, Any] = {"ExportType": body.get("ExportType", "FULL_EXPORT")}
        if description["ExportType"] == "INCREMENTAL_EXPORT":
            start, end, view = self._incremental_window(body, window, now)
            content = incremental_export(timeline, micros(start), micros(end), view, spec, evaluator)
            incremental = {"ExportFromTime": epoch_seconds(start), "ExportToTime": epoch_seconds(end)}
            description["IncrementalExportSpecification"] = {**incremental, "ExportViewType": view}
        else:
            at = from_epoch_seconds(body["ExportTime"]) if "ExportTime" in body else now
            self._inside(window, now, at)
            content = full_export(timeline, micros(at), spec, evaluator)
            description["ExportTime"] = epoch_seconds(at)
        export_id = f"{micros(now) // 1000:014d}-{secrets.token_hex(4)}"
        target = ExportTarget(
            body["S3Bucket"], body.get("S3Prefix"), body.get("S3BucketOwner"), body.get("S3SseAlgorithm"),
            body.get("S3SseKmsKeyId"),
        )  # fmt: skip
        description.update(
            ExportArn=f"{table.arn}/export/{export_id}",
            ExportStatus="IN_PROGRESS",
            StartTime=epoch_seconds(now),
            TableArn=table.arn,
            TableId=table.table_id,
            ExportFormat=body.get("ExportFormat", "DYNAMODB_JSON"),
            **{k: body[k] for k in ("ClientToken", "S3Bucket", "S3BucketOwner", "S3Prefix") if k in body},
            **{k: body[k] for k in ("S3SseAlgorithm", "S3SseKmsKeyId", "FilterSpecification") if k in body},
        )
        export = StandInExport(call.caller, table, export_id, now, description, {}, target, content)
        export.summary = manifest_summary(description, now, target, content.billed_bytes)
        try:
            write_started(self.front.aws_client("s3", call.caller), target, export_id)
        except ClientError as error:
            _fail(export, error, now)
        with self._lock:
            self._exports[export.arn] = export
        return export.arn

    def _incremental_window(
        self, body: dict[str, Any], window: Window, now: datetime
    ) -> tuple[datetime, datetime, str]:
        spec = body.get("IncrementalExportSpecification") or {}
        if "ExportFromTime" not in spec:
            raise AwsError(
                "ValidationException",
                "IncrementalExportSpecification with an ExportFromTime is required for an INCREMENTAL_EXPORT",
            )
        start = from_epoch_seconds(spec["ExportFromTime"])
        end = from_epoch_seconds(spec["ExportToTime"]) if "ExportToTime" in spec else now
        if not SHORTEST_WINDOW <= end - start <= LONGEST_WINDOW:
            raise AwsError(
                self.window_error_code,
                "The incremental export period from ExportFromTime to ExportToTime must be at least 15 minutes and at "
                "most 24 hours",
            )
        self._inside(window, now, start)
        self._inside(window, now, end)
        return start, end, str(spec.get("ExportViewType", "NEW_AND_OLD_IMAGES"))

    def _inside(self, window: Window, now: datetime, at: datetime) -> None:
        if not window.earliest <= at <= now:
            raise AwsError(
                "InvalidExportTimeException",
                f"The specified ExportTime is outside of the point in time recovery window: {at.isoformat()} is not "
                f"between {window.earliest.isoformat()} and {now.isoformat()}",
            )

    def _describe(self, call: DynamoDbCall) -> dict[str, Any]:
        with self._lock:
            export = self._exports.get(str(call.body.get("ExportArn", "")))
        if export is not None:
            return {"ExportDescription": self._current(export, described=True)}
        answer = self.front.forward(call.request)
        if answer.status != 200:
            raise AwsError("ExportNotFoundException", f"Export not found: {call.body.get('ExportArn')}")
        return answer.json()

    def _list(self, call: DynamoDbCall) -> dict[str, Any]:
        table_arn = call.body.get("TableArn")
        summaries: list[dict[str, Any]] = []
        if table_arn:
            answer = self.front.forward(call.request)
            summaries = answer.json().get("ExportSummaries", []) if answer.status == 200 else []
        account = self.front.account_of(call.caller)
        for export in self.exports():
            if export.table.account == account and table_arn in (None, export.table.arn):
                current = self._current(export, described=False)
                summaries.append({k: current[k] for k in ("ExportArn", "ExportStatus", "ExportType")})
        token = str(call.body.get("NextToken") or "standin-0")
        if not re.fullmatch(r"standin-\d+", token):
            raise AwsError("ValidationException", "Invalid NextToken: pass the NextToken of the previous page")
        offset = int(token.removeprefix("standin-"))
        size = int(call.body.get("MaxResults") or 25)
        page: dict[str, Any] = {"ExportSummaries": summaries[offset : offset + size]}
        if offset + size < len(summaries):
            page["NextToken"] = f"standin-{offset + size}"
        return page

    def _current(self, export: StandInExport, *, described: bool) -> dict[str, Any]:
        """The description now, finishing the export first when its pacing says so."""
        with export.lock:
            now = self.front.clock()
            if export.description["ExportStatus"] == "IN_PROGRESS":
                due = self.pacing.seconds is not None and now >= export.start + timedelta(seconds=self.pacing.seconds)
                if described and self.pacing.describes is not None:
                    due = due or export.describes >= self.pacing.describes
                    export.describes += 1
                if due:
                    self._finish(export, now)
            return dict(export.description)

    def _finish(self, export: StandInExport, now: datetime) -> None:
        summary = {**export.summary, "endTime": iso_millis(now)}
        incremental = export.description["ExportType"] == "INCREMENTAL_EXPORT"
        try:
            key = write_export(
                self.front.aws_client("s3", export.caller), export.target, export.export_id, summary,
                export.content.lines, incremental=incremental, lines_per_file=self.lines_per_file,
                ion=export.description.get("ExportFormat") == "ION",
            )  # fmt: skip
        except ClientError as error:
            _fail(export, error, now)
            return
        export.description.update(
            ExportStatus="COMPLETED",
            EndTime=epoch_seconds(now),
            ExportManifest=key,
            ItemCount=len(export.content.lines),
            BilledSizeBytes=export.content.billed_bytes,
        )

    def _on_reset(self, request: IncomingRequest) -> None:
        if request.path.startswith("/moto-api/reset"):
            with self._lock:
                self._exports.clear()
            self._tokens.clear()


def _status(export: StandInExport) -> str:
    with export.lock:
        return str(export.description["ExportStatus"])


def _fail(export: StandInExport, error: ClientError, now: datetime) -> None:
    code = str(error.response.get("Error", {}).get("Code", "S3Error"))
    export.description.update(
        ExportStatus="FAILED",
        EndTime=epoch_seconds(now),
        FailureCode=code,
        FailureMessage=f"Export could not be written to s3://{export.target.bucket}: {code}",
    )
