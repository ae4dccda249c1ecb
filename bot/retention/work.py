"""Approved deletions as claimed work (bot/background): the `export-deletion` kind deletes the export's files and
records how it ended, and owes its result note, in the same transaction that settles the claim; a crash at any step
is taken over and the deletion run again (deleting what is already gone is a no-op in S3). The result reaches each
of its destinations on its own through the notes (bot/background/notes.py), never posted twice, a refused one
reported."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from bot.background.claims import Claim, WorkState, enqueue_work
from bot.background.fence import Fence
from bot.background.notes import (
    NOTE,
    Delivery,
    NoteStamp,
    approval_destinations,
    delivered,
    note_key,
)
from bot.models import ExportLocation
from bot.retention.buckets import read_bucket_keeping
from bot.retention.deletions import DeletionNotifier
from bot.retention.files import delete_export_files
from bot.retention.models import DeletionRequest, DeletionState
from bot.retention.store import DELETION, DeletionStore
from bot.words import plural

logger = logging.getLogger(__name__)
ENDED = frozenset({DeletionState.DELETED, DeletionState.PARTIAL, DeletionState.FAILED})


class DeletionWork:
    """The `export-deletion` kind."""

    def __init__(self, store: DeletionStore, s3_for: Callable[[DeletionRequest], Any]) -> None:
        self._store = store
        self._s3_for = s3_for

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
            enqueue_work(connection, NOTE, note_key(DELETION, request.id))
        logger.info("retention.export_deleted", extra={"deletion": request.id, "deleted": result.deleted, "kept": kept})

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """Recorded FAILED with why, and the approval thread told."""
        with fence.finishing(WorkState.GIVEN_UP, reason) as connection:
            self._store.transition(
                item.key, DeletionState.APPROVED, DeletionState.FAILED, connection=connection, outcome=reason
            )
            enqueue_work(connection, NOTE, note_key(DELETION, item.key))


class DeletionResults:
    """The `export-deletion` notes' poster: how a deletion ended, in the approval thread, on the approval message
    and to the requester, each delivered on its own."""

    def __init__(self, store: DeletionStore, notifier: DeletionNotifier) -> None:
        self._store = store
        self._notifier = notifier

    def targets(self, subject: str) -> list[str]:
        """Where the end is told (none before it ended)."""
        request = self._store.get(subject)
        if request is None or request.state not in ENDED or not request.approval_channel:
            return []
        places = approval_destinations(request.approval_channel, request.approval_ts, request.requested_by)
        return [place.target() for place in places]

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        """Tell how the deletion ended to `stamp.target`."""
        request = self._store.get(subject)
        return delivered() if request is None else self._notifier.finished(request, stamp)

    def posted(self, subject: str, connection: Connection) -> None:
        """Nothing to mark: the request's state is its record."""


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
