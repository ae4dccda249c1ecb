"""`into=`: the exports' items written into an existing table by the loader, resumable per data file."""

from __future__ import annotations

from typing import Any

from bot.aws.accounts import Place
from bot.loader.replay import LoadCancelled, LoadCheckpoints, LoadProgress, load_exports
from bot.models import ExportLocation
from bot.restores.executors import Cancelled, ExecutorContext
from bot.restores.models import RestoreRequest
from bot.restores.notify import RestoreOutcome, RestoreProgress


class LoadExecutor:
    """Runs the loader for a request; a restart continues with the files not finished yet."""

    def __init__(self, checkpoints: LoadCheckpoints, concurrency: int = 4) -> None:
        self._checkpoints = checkpoints
        self._concurrency = concurrency

    def resume_note(self, context: ExecutorContext, request: RestoreRequest) -> str:
        """How many data files an earlier run already finished (they are skipped, not written again)."""
        done = sum(
            len(self._checkpoints.finished_files(request.id, str(export["export_id"])))
            for export in request.plan.options.get("exports", [])
        )
        return (
            f"Resumed after a restart: {done} data file(s) already written are skipped; "
            "continuing with the files not finished yet."
        )

    def run(self, context: ExecutorContext, request: RestoreRequest) -> RestoreOutcome:
        """Load every export of the plan, oldest first."""
        plan = request.plan
        exports: list[dict[str, Any]] = list(plan.options.get("exports", []))
        locations = [
            ExportLocation(str(e["bucket"]), e.get("prefix"), str(e["export_id"]), e.get("owner")) for e in exports
        ]
        first = exports[0] if exports else {}
        read_place = (
            Place(first.get("read_alias"), str(first["read_region"])) if first.get("read_region") else context.place
        )

        def progress(update: LoadProgress) -> None:
            context.report(
                RestoreProgress(
                    items=update.items_written,
                    files_done=update.files_done,
                    files_total=update.files_total,
                    deletes=update.deletes_applied,
                    rate_per_second=update.items_per_s,
                    elapsed_seconds=update.elapsed_s,
                    note=f"{update.retries} retries, {update.throttles} throttled" if update.retries else None,
                )
            )

        try:
            report = load_exports(
                s3=context.core.aws.s3(read_place),
                dynamodb=context.core.aws.dynamodb(context.place),
                sources=locations,
                table_name=plan.target,
                key_names=list(plan.options["key_names"]),
                checkpoints=self._checkpoints,
                restore_id=request.id,
                progress=progress,
                cancel=context.cancel,
                concurrency=self._concurrency,
                progress_interval_s=context.progress_seconds,
            )
        except LoadCancelled as exc:
            raise Cancelled from exc
        return RestoreOutcome(
            items_written=report.items_written,
            deletes_applied=report.deletes_applied,
            files=report.files,
            files_skipped=report.files_skipped_resumed,
            retries=report.retries,
            duration_seconds=report.duration_s,
            details={"throttles": report.throttles},
        )
