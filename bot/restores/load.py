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

from bot.aws.accounts import Place
from bot.errors import BotError
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
from bot.restores.executors import Cancelled, ExecutorContext
from bot.restores.load_checkpoints import SqlLoadCheckpoints
from bot.restores.models import LoadOptions, LoadSource, RestorePlan, RestoreRequest
from bot.restores.notify import RestoreOutcome, RestoreProgress
from bot.restores.outcome import ItemsDone, ItemsPromised
from bot.restores.sources import verify_unchanged

DONE_BASIS = "written or deleted by the loader"


def load_key(plan: RestorePlan) -> str:
    """What the loader's checkpoints are kept under: the target and the exports as approved (their manifests'
    checksums included), not the request, nor the rate, which changes how fast but not what is written."""
    options = plan.options_as(LoadOptions)
    exports = [[e.export_id, e.url, e.manifest_md5] for e in options.exports]
    text = json.dumps([plan.alias, plan.region, plan.target, exports], separators=(",", ":"))
    return "load-" + hashlib.sha256(text.encode()).hexdigest()[:40]


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
    """Runs the loader for a request; a restart (or a new request with the same plan) continues with the files not
    finished yet.

    `retry_seconds` (DDBBOT_LOADER_RETRY_SECONDS) is how long a batch may make no progress before the load stops;
    `references` is the bot's record of the exports it made, which their data files are checked against.
    """

    def __init__(
        self,
        checkpoints: SqlLoadCheckpoints,
        concurrency: int = 4,
        retry_seconds: float = 300.0,
        references: ReferenceStore | None = None,
    ) -> None:
        self._checkpoints = checkpoints
        self._concurrency = concurrency
        self._retry_seconds = retry_seconds
        self._references = references

    def resume_note(self, context: ExecutorContext, request: RestoreRequest) -> str:
        """How many data files an earlier run already finished (they are skipped, not written again)."""
        done = self._checkpoints.totals(load_key(request.plan))[0]
        return (
            f"Resumed after a restart: {done} data file(s) already written are skipped; "
            "continuing with the files not finished yet."
        )

    def run(self, context: ExecutorContext, request: RestoreRequest) -> RestoreOutcome:
        """Load every export of the plan, oldest first, and say what was promised and what was done."""
        options = request.plan.options_as(LoadOptions)
        for export in options.exports:
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
            cancel=context.cancel,
            concurrency=self._concurrency,
            timing=LoadTiming(progress_interval_s=context.progress_seconds, retry_seconds=self._retry_seconds),
            pacing=LoadPacing(ceiling=float(options.ceiling.units) if options.ceiling else None),
        )
        sources = [self._source(context, export) for export in options.exports]
        try:
            report = replay.run(sources)
        except LoadCancelled as exc:
            raise Cancelled from exc
        except BotError as error:
            return self._stopped(request, replay.report(), error, key)
        with context.fenced() as connection:
            self._checkpoints.forget(key, connection=connection)
        return _outcome(options, report, problems=report.short_files, landed=report.changes_applied)

    def _source(self, context: ExecutorContext, export: LoadSource) -> ExportSource:
        """The export with the S3 client of its own account and region, and the bot's record of its files."""
        place = Place(export.read_alias, export.read_region or context.place.region)
        reference = self._references.get(export.export_arn) if self._references and export.export_arn else None
        return ExportSource(export.location, context.core.aws.s3(place), reference.files if reference else None)

    def _stopped(self, request: RestoreRequest, report: LoadReport, error: BotError, key: str) -> RestoreOutcome:
        """A load that stopped on an error: FAILED when nothing was ever written (the error is raised again), else a
        PARTIAL outcome saying what landed and that asking again continues after the finished files."""
        landed = report.changes_resumed + report.items_written + report.deletes_applied
        if landed == 0:
            raise error
        files = self._checkpoints.totals(key)[0]
        problem = (
            f"the load stopped: {str(error).rstrip('.')}. {files} data file(s) are fully written and kept: ask again "
            "for the same "
            f"exports into `{request.target_display}` (a new request) and it continues after them"
        )
        options = request.plan.options_as(LoadOptions)
        return _outcome(options, report, problems=(problem, *report.short_files), landed=landed)


def _outcome(options: LoadOptions, report: LoadReport, *, problems: tuple[str, ...], landed: int) -> RestoreOutcome:
    counts = [export.item_count for export in options.exports]
    bases = sorted({export.count_basis or "the export" for export in options.exports})
    promised = ItemsPromised(
        None if any(count is None for count in counts) else sum(count or 0 for count in counts),
        "; ".join(bases) if all(count is not None for count in counts) else "an export's item count is not known",
    )
    return RestoreOutcome(
        items_written=report.items_written,
        deletes_applied=report.deletes_applied,
        files=report.files,
        files_skipped=report.files_skipped_resumed,
        retries=report.retries,
        duration_seconds=report.duration_s,
        details={
            "throttles": report.throttles,
            "unverified_files": report.unverified_files,
            "units_consumed": round(report.units_consumed),
            **({"rate": options.ceiling.describe()} if options.ceiling else {}),
        },
        promised=promised,
        done=ItemsDone(landed, DONE_BASIS, problems=problems),
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
