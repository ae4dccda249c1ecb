"""`into=`: the exports' items written into an existing table by the loader, resumable per data file.

Each export is read with its own place's credentials, region and bucket owner, checked against the bot's record
of it when there is one. Checkpoints are kept by the load (its exports and target), so a load that stopped on an
error can be asked for again in a new request, which continues after the files already written; a load that ends
forgets them. A load that wrote something and then stopped is PARTIAL (the table holds part of what was promised),
one that stopped before writing anything FAILED.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.aws.accounts import Place
from bot.errors import BotError, PreconditionFailed
from bot.exports.reference import ReferenceStore
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.replay import (
    ExportReplay,
    ExportSource,
    LoadCancelled,
    LoadPacing,
    LoadProgress,
    LoadReport,
    LoadTiming,
)
from bot.restores.bulk import BulkPhase, BulkResult
from bot.restores.executors import Cancelled, ExecutorContext, Withdrawn
from bot.restores.load_checkpoints import SqlLoadCheckpoints
from bot.restores.models import LoadOptions, LoadSource, RestorePlan, RestoreRequest
from bot.restores.notify import RestoreOutcome, RestoreProgress
from bot.restores.outcome import ItemsDone, ItemsPromised
from bot.restores.sources import verify_unchanged
from bot.words import plural

DONE_BASIS = "written or deleted by the loader"


def load_key(plan: RestorePlan) -> str:
    """What the loader's checkpoints are kept under: the target and the exports as approved (their manifests'
    checksums included), not the request, nor the rate, which changes how fast but not what is written."""
    options = plan.options_as(LoadOptions)
    exports = [[e.export_id, e.url, e.manifest_md5] for e in options.exports]
    text = json.dumps([plan.alias, plan.region, plan.target, exports], separators=(",", ":"))
    return "load-" + hashlib.sha256(text.encode()).hexdigest()[:40]


BULK_CHECKPOINT = "bulk-put:"  # a checkpoint's file key for a full export written by bulk put: `bulk-put:<arn>`


class FencedCheckpoints:
    """The load's checkpoints as one run writes them: each finished file is recorded in the claim's fenced
    transaction. A runner that lost its claim and has not noticed yet (paused past the stale threshold) records
    nothing, so no file is marked after the new holder ended the load and forgot its checkpoints: the next restore
    of the same exports would skip that file and count its items as written."""

    def __init__(self, checkpoints: SqlLoadCheckpoints, context: ExecutorContext) -> None:
        self._checkpoints = checkpoints
        self._context = context

    def finished_files(self, load_key: str, export_id: str) -> Mapping[str, tuple[int, int]]:
        """The export's data files already written for this load."""
        return self._checkpoints.finished_files(load_key, export_id)

    def mark_finished(self, load_key: str, export_id: str, file_key: str, items: int, deletes: int) -> None:
        """Record a finished file while the claim is held; raises Cancelled (the load stops) once it is not."""
        with self._context.fenced() as connection:
            self._checkpoints.mark_finished(load_key, export_id, file_key, items, deletes, connection=connection)


class LoadExecutor:
    """Runs an `into=` restore: the full export by bulk put when the plan says so (`bulk`), then the loader for the
    rest; a restart (or a new request with the same plan) continues with the exports and files not finished yet.

    `retry_seconds` (DDBBOT_LOADER_RETRY_SECONDS) is how long a batch may make no progress before the load stops;
    `references` is the bot's record of the exports it made, which their data files are checked against.
    """

    def __init__(
        self,
        checkpoints: SqlLoadCheckpoints,
        concurrency: int = 4,
        retry_seconds: float = 300.0,
        references: ReferenceStore | None = None,
        bulk: BulkPhase | None = None,
    ) -> None:
        self._checkpoints = checkpoints
        self._concurrency = concurrency
        self._retry_seconds = retry_seconds
        self._references = references
        self._bulk = bulk or BulkPhase()

    def resume_note(self, context: ExecutorContext, request: RestoreRequest) -> str:
        """How many data files an earlier run already finished (they are skipped, not written again), or the bulk
        operation being followed again."""
        options = request.plan.options_as(LoadOptions)
        if options.by_bulk and request.aws_ref and not self._bulk_checkpoint(request):
            return "Resumed after a restart: following the bulk put operation DynamoDB is already running."
        done = self._checkpoints.totals(load_key(request.plan))[0]
        return (
            f"Resumed after a restart: {plural(done, 'data file')} already written {'is' if done == 1 else 'are'} "
            "skipped; "
            "continuing with the files not finished yet."
        )

    def run(self, context: ExecutorContext, request: RestoreRequest) -> RestoreOutcome:
        """Load every export of the plan, oldest first (the full one by bulk put when planned so), and say what was
        promised and what was done."""
        options = request.plan.options_as(LoadOptions)
        key = load_key(request.plan)
        bulk: BulkDone | None = None
        exports = options.exports
        if options.by_bulk:
            try:
                bulk = self._bulk_part(context, request, key)
            except _BulkStopped as stopped:
                return stopped.outcome
            exports = exports[1:]
            if context.withdrawn.is_set() and exports:
                raise Withdrawn(_outcome(options, _no_load(), problems=(), landed=0, bulk=bulk))
        if not exports:
            with context.fenced() as connection:
                self._checkpoints.forget(key, connection=connection)
            return _outcome(options, _no_load(), problems=(), landed=0, bulk=bulk)
        return self._load(context, request, exports, bulk)

    def _bulk_part(self, context: ExecutorContext, request: RestoreRequest, key: str) -> BulkDone:
        """The full export by bulk put, unless an earlier run (or request with this plan) finished it; a finished
        operation is checkpointed, so the loader's part after it never starts it again."""
        finished = self._bulk_checkpoint(request)
        if finished is not None:
            return BulkDone(None, finished)
        options = request.plan.options_as(LoadOptions)
        result = self._bulk.run(context, request)
        if result.finished:
            with context.fenced() as connection:
                self._checkpoints.mark_finished(
                    key,
                    options.exports[0].export_id,
                    BULK_CHECKPOINT + result.operation_arn,
                    result.written or 0,
                    0,
                    connection=connection,
                )
            return BulkDone(result, None)
        done = BulkDone(result, None)
        if result.status == "CANCELLED" and context.withdrawn.is_set():
            raise Withdrawn(_outcome(options, _no_load(), problems=(), landed=0, bulk=done))
        said = f"the bulk put operation ended {result.status}" + (f" ({result.failure})" if result.failure else "")
        if not result.processed:
            raise PreconditionFailed(f"{said}; nothing was written.", f"`/ddb-restore retry {request.id}` tries again.")
        stopped = _outcome(options, _no_load(), problems=(f"{said}; items already written stay",), landed=0, bulk=done)
        raise _BulkStopped(stopped)

    def _bulk_checkpoint(self, request: RestoreRequest) -> int | None:
        """The items an earlier bulk put of this plan's full export wrote, when one finished (None: none did)."""
        options = request.plan.options_as(LoadOptions)
        files = self._checkpoints.finished_files(load_key(request.plan), options.exports[0].export_id)
        return next((items for name, (items, _) in files.items() if name.startswith(BULK_CHECKPOINT)), None)

    def _load(
        self, context: ExecutorContext, request: RestoreRequest, exports: tuple[LoadSource, ...], bulk: BulkDone | None
    ) -> RestoreOutcome:
        options = request.plan.options_as(LoadOptions)
        for export in exports:
            verify_unchanged(context.core, export)  # the files approved, or none (ExportFilesChanged)
        key = load_key(request.plan)
        aws = context.core.aws
        endpoint = DynamoDbEndpoint.of(aws.dynamodb(context.place), aws.session(context.place).get_credentials())
        replay = ExportReplay(
            s3=aws.s3(context.place),
            endpoint=endpoint,
            table_name=request.plan.target,
            key_names=options.key_names,
            checkpoints=FencedCheckpoints(self._checkpoints, context),
            load_key=key,
            progress=lambda update: context.report(_progress(update)),
            cancel=context.writes_stop,
            concurrency=self._concurrency,
            timing=LoadTiming(progress_interval_s=context.progress_seconds, retry_seconds=self._retry_seconds),
            pacing=LoadPacing(ceiling=float(options.ceiling.units) if options.ceiling else None),
        )
        sources = [self._source(context, export) for export in exports]
        try:
            report = replay.run(sources)
        except LoadCancelled as exc:
            if context.withdrawn.is_set():
                landed = exc.report.changes_resumed + exc.report.items_written + exc.report.deletes_applied
                kept = self._checkpoints.totals(key)[0]
                problem = f"cancelled: {kept} data file(s) fully written are kept, and a retry continues after them"
                raise Withdrawn(_outcome(options, exc.report, problems=(problem,), landed=landed, bulk=bulk)) from exc
            raise Cancelled from exc
        except BotError as error:
            return self._stopped(request, replay.report(), error, key, bulk)
        with context.fenced() as connection:
            self._checkpoints.forget(key, connection=connection)
        return _outcome(options, report, problems=report.short_files, landed=report.changes_applied, bulk=bulk)

    def _source(self, context: ExecutorContext, export: LoadSource) -> ExportSource:
        """The export with the S3 client of its own account and region, and the bot's record of its files."""
        place = Place(export.read_alias, export.read_region or context.place.region)
        reference = self._references.get(export.export_arn) if self._references and export.export_arn else None
        return ExportSource(export.location, context.core.aws.s3(place), reference.files if reference else None)

    def _stopped(
        self, request: RestoreRequest, report: LoadReport, error: BotError, key: str, bulk: BulkDone | None
    ) -> RestoreOutcome:
        """A load that stopped on an error: FAILED when nothing was ever written (the error is raised again), else a
        PARTIAL outcome saying what landed and that asking again continues after the finished files."""
        landed = report.changes_resumed + report.items_written + report.deletes_applied
        if landed == 0 and bulk is None:
            raise error
        files = self._checkpoints.totals(key)[0]
        problem = (
            f"the load stopped: {str(error).rstrip('.')}. {plural(files, 'data file')} "
            f"{'is' if files == 1 else 'are'} fully written and kept: "
            f"`/ddb-restore retry {request.id}` (a new request, approved again) continues after them"
        )
        options = request.plan.options_as(LoadOptions)
        return _outcome(options, report, problems=(problem, *report.short_files), landed=landed, bulk=bulk)


class _BulkStopped(Exception):
    """The bulk put operation stopped (FAILED, or cancelled outside the bot) after writing some items."""

    def __init__(self, outcome: RestoreOutcome) -> None:
        super().__init__("the bulk put operation stopped")
        self.outcome = outcome


@dataclass(frozen=True)
class BulkDone:
    """The full export's bulk put: this run's result, or the items an earlier run's finished operation wrote."""

    result: BulkResult | None
    resumed_items: int | None

    @property
    def written(self) -> int | None:
        """Items the operation put (None while the report's condition failures are unknown)."""
        return self.result.written if self.result is not None else self.resumed_items


def _no_load() -> LoadReport:
    return LoadReport(0, 0, 0, 0, 0.0, 0, 0)


def _outcome(
    options: LoadOptions, report: LoadReport, *, problems: tuple[str, ...], landed: int, bulk: BulkDone | None = None
) -> RestoreOutcome:
    counts = [export.item_count for export in options.exports]
    bases = sorted({export.count_basis or "the export" for export in options.exports})
    promised = ItemsPromised(
        None if any(count is None for count in counts) else sum(count or 0 for count in counts),
        "; ".join(bases) if all(count is not None for count in counts) else "an export's item count is not known",
    )
    details: dict[str, Any] = {
        "throttles": report.throttles,
        "unverified_files": report.unverified_files,
        "units_consumed": round(report.units_consumed),
        **({"rate": options.ceiling.describe()} if options.ceiling else {}),
    }
    done = ItemsDone(landed, DONE_BASIS, problems=problems)
    if bulk is not None:
        done, details = _with_bulk(done, details, bulk)
    return RestoreOutcome(
        items_written=report.items_written + (bulk.written or 0 if bulk is not None else 0),
        deletes_applied=report.deletes_applied,
        files=report.files,
        files_skipped=report.files_skipped_resumed,
        retries=report.retries,
        duration_seconds=report.duration_s + (bulk.result.duration_seconds or 0.0 if bulk and bulk.result else 0.0),
        details=details,
        promised=promised,
        done=done,
    )


def _with_bulk(done: ItemsDone, details: dict[str, Any], bulk: BulkDone) -> tuple[ItemsDone, dict[str, Any]]:
    """The bulk put's share of what was done: its items written, the items it rejected (counted from
    DescribeBulkOperation) and those whose condition was false (counted from its report), where they are listed."""
    result = bulk.result
    if result is None:
        written = bulk.resumed_items or 0
        basis = f"{DONE_BASIS} and by an earlier bulk put operation"
        return replace(done, count=(done.count or 0) + written, basis=basis), {**details, "bulk": {"resumed": written}}
    report = result.report
    location = report.location if report is not None else None
    problems = list(done.problems)
    if report is not None and report.unreadable:
        problems.append(f"the failed-items report at {location} could not be read: {report.unreadable}")
    count = None if result.written is None else (done.count or 0) + result.written
    return (
        ItemsDone(
            count,
            f"{DONE_BASIS} and by bulk put (items processed, less those rejected or whose condition was false)",
            errors=result.failed,
            error_log=f"the failed-items report at `{location}`" if location else None,
            problems=tuple(problems),
            conditions=result.conditions or 0,
        ),
        {**details, "bulk": result.as_dict()},
    )


def _progress(update: LoadProgress) -> RestoreProgress:
    return RestoreProgress(
        items=update.items_written,
        files_done=update.files_done,
        files_total=update.files_total,
        deletes=update.deletes_applied,
        rate_per_second=update.items_per_s,
        elapsed_seconds=update.elapsed_s,
        note=f"{update.retries} retries" if update.retries else None,
        units_per_second=update.units_per_s,
        ceiling_units=round(update.ceiling) if update.ceiling is not None else None,
        throttles=update.throttles,
        eta_seconds=update.eta_s,
    )
