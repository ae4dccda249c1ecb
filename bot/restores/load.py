"""`into=`: the exports' items written into an existing table by the loader, resumable per data file."""

from __future__ import annotations

from bot.aws.accounts import Place
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.replay import ExportReplay, LoadCancelled, LoadCheckpoints, LoadPacing, LoadProgress, LoadTiming
from bot.restores.executors import Cancelled, ExecutorContext
from bot.restores.models import LoadOptions, RestoreRequest
from bot.restores.notify import RestoreOutcome, RestoreProgress
from bot.restores.sources import verify_unchanged
from bot.words import plural


class LoadExecutor:
    """Runs the loader for a request; a restart continues with the files not finished yet.

    `retry_seconds` (DDBBOT_LOADER_RETRY_SECONDS) is how long a batch may make no progress before the load stops.
    """

    def __init__(self, checkpoints: LoadCheckpoints, concurrency: int = 4, retry_seconds: float = 300.0) -> None:
        self._checkpoints = checkpoints
        self._concurrency = concurrency
        self._retry_seconds = retry_seconds

    def resume_note(self, context: ExecutorContext, request: RestoreRequest) -> str:
        """How many data files an earlier run already finished (they are skipped, not written again)."""
        exports = request.plan.options_as(LoadOptions).exports
        done = sum(len(self._checkpoints.finished_files(request.id, export.export_id)) for export in exports)
        return (
            f"Resumed after a restart: {plural(done, 'data file')} already written {'is' if done == 1 else 'are'} "
            "skipped; "
            "continuing with the files not finished yet."
        )

    def run(self, context: ExecutorContext, request: RestoreRequest) -> RestoreOutcome:
        """Load every export of the plan, oldest first."""
        options = request.plan.options_as(LoadOptions)
        for export in options.exports:
            verify_unchanged(context.core, export)  # the files approved, or none (ExportFilesChanged)
        first = options.exports[0] if options.exports else None
        read_place = Place(first.read_alias, first.read_region) if first and first.read_region else context.place
        aws = context.core.aws
        endpoint = DynamoDbEndpoint.of(aws.dynamodb(context.place), aws.session(context.place).get_credentials())
        replay = ExportReplay(
            s3=aws.s3(read_place),
            endpoint=endpoint,
            table_name=request.plan.target,
            key_names=options.key_names,
            checkpoints=self._checkpoints,
            restore_id=request.id,
            progress=lambda update: context.report(_progress(update)),
            cancel=context.cancel,
            concurrency=self._concurrency,
            timing=LoadTiming(progress_interval_s=context.progress_seconds, retry_seconds=self._retry_seconds),
            pacing=LoadPacing(ceiling=float(options.ceiling.units) if options.ceiling else None),
        )
        try:
            report = replay.run([export.location for export in options.exports])
        except LoadCancelled as exc:
            raise Cancelled from exc
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
