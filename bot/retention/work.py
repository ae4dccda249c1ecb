"""Approved deletions as claimed work (bot/background): the `export-deletion` kind deletes the export's files and
records how it ended in the same transaction that settles the claim; a crash at any step is taken over and the
deletion run again (deleting what is already gone is a no-op in S3)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.background.claims import Claim, WorkState
from bot.background.fence import Fence
from bot.errors import BotError
from bot.models import ExportLocation
from bot.retention.buckets import read_bucket_keeping
from bot.retention.deletions import DeletionNotifier
from bot.retention.files import delete_export_files
from bot.retention.models import DeletionRequest, DeletionState
from bot.retention.store import DeletionStore
from bot.words import plural

logger = logging.getLogger(__name__)


class DeletionWork:
    """The `export-deletion` kind."""

    def __init__(
        self, store: DeletionStore, s3_for: Callable[[DeletionRequest], Any], notifier: DeletionNotifier
    ) -> None:
        self._store = store
        self._s3_for = s3_for
        self._notifier = notifier

    def run(self, item: Claim, fence: Fence) -> None:
        """Delete the files, then record DELETED (or PARTIAL when S3 kept some) with the claim settled."""
        request = self._store.get(item.key)
        if request is None or request.state != DeletionState.APPROVED:
            return
        s3 = self._s3_for(request)
        location = _location(request)
        keeping = read_bucket_keeping(s3, request.bucket, request.folder, owner=request.bucket_owner)
        fence.step("deleting")
        result = delete_export_files(s3, location, versioned=keeping.versioning != "Off")
        fence.step("deleted")
        kept = len(result.refused)
        state = DeletionState.PARTIAL if kept else DeletionState.DELETED
        outcome = _outcome(result.deleted, kept, keeping.object_lock_mode, keeping.object_lock_days)
        with fence.finishing() as connection:
            self._store.transition(
                request.id,
                DeletionState.APPROVED,
                state,
                connection=connection,
                deleted_objects=result.deleted,
                kept_objects=kept,
                outcome=outcome,
                finished_at=self._store.now(),
            )
        logger.info("retention.export_deleted", extra={"deletion": request.id, "deleted": result.deleted, "kept": kept})
        self._tell(request.id)

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """Recorded FAILED with why, and the approval thread told."""
        with fence.finishing(WorkState.GIVEN_UP, reason) as connection:
            self._store.transition(
                item.key, DeletionState.APPROVED, DeletionState.FAILED, connection=connection, outcome=reason
            )
        self._tell(item.key)

    def _tell(self, deletion_id: str) -> None:
        finished = self._store.get(deletion_id)
        if finished is None:
            return
        try:
            self._notifier.finished(finished)
        except BotError:
            logger.warning("retention.result_not_posted", extra={"deletion": deletion_id})


def _location(request: DeletionRequest) -> ExportLocation:
    root = request.folder.removesuffix(f"{request.export_id}/").removesuffix("AWSDynamoDB/").strip("/")
    return ExportLocation(request.bucket, root or None, request.export_id, request.bucket_owner)


def _outcome(deleted: int, kept: int, lock_mode: str | None, lock_days: int | None) -> str:
    said = f"{plural(deleted, 'object')} deleted"
    if not kept:
        return said + "."
    held = (
        f" Object Lock ({lock_mode}, {plural(lock_days, 'day')} from each file's writing) holds them: S3 refused to "
        "delete them, and nobody can before the lock ends."
        if lock_mode
        else " S3 refused to delete them."
    )
    return f"{said}; {plural(kept, 'object')} kept.{held}"
