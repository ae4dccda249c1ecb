"""Recoveries as claimed work (bot/background): the `recovery` kind carries each preparation to its end, and the
`recovery` notes tell its requester (the answer, the request made, or why it failed), each exactly when its state
commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Connection

from bot.background.claims import Claim, WorkState
from bot.background.fence import Fence
from bot.background.notes import POST, THREAD, Delivery, Destination, NoteStamp, delivered
from bot.recovery.models import Kind, State
from bot.recovery.notify import RecoveryNotifier
from bot.recovery.prepare import Preparer
from bot.recovery.store import RecoveryStore
from bot.recovery.views import item_view
from bot.restores.models import RestoreRequest

TOLD = frozenset({State.ANSWERED, State.REQUESTED, State.FAILED})  # the states whose news the requester hears


class PreparationWork:
    """The `recovery` kind: one step of a preparation per take; while its exports run it is given back and taken
    again a poll later, without counting an attempt."""

    def __init__(self, preparer: Preparer) -> None:
        self._preparer = preparer

    def run(self, item: Claim, fence: Fence) -> None:
        """Advance the preparation; its end commits with the claim settled."""
        waiting = self._preparer.advance(item.key, fence.halt, fence.finishing)
        if waiting is not None:
            fence.defer(timedelta(seconds=waiting.seconds))

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """Recorded failed, and the requester told why."""
        self._preparer.give_up(item.key, reason, lambda: fence.finishing(WorkState.GIVEN_UP, reason))


class RecoveryNotes:
    """The `recovery` notes' poster: what the requester (and the approval thread) must hear of a preparation, each
    destination delivered, retried and reported on its own (bot.background.notes)."""

    def __init__(
        self, store: RecoveryStore, notifier: RecoveryNotifier, request_of: Callable[[str], RestoreRequest | None]
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._request_of = request_of

    def targets(self, subject: str) -> list[str]:
        """The requester's direct messages, and for a repair put up for approval its approval thread first."""
        preparation = self._store.get(subject)
        if preparation is None or preparation.state not in TOLD:
            return []
        if preparation.state == State.ANSWERED and preparation.kind != Kind.ITEM:
            return []
        places = [Destination(POST, preparation.requested_by)]
        if preparation.state == State.REQUESTED:
            request = self._request_of(preparation.request_id) if preparation.request_id else None
            if request is None:
                return []
            if request.approval_channel and request.approval_ts:
                places.insert(0, Destination(THREAD, request.approval_channel))
        return [place.target() for place in places]

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        """Post to `stamp.target` by the preparation's state."""
        preparation = self._store.get(subject)
        if preparation is None:
            return delivered()
        if preparation.state == State.ANSWERED:
            return self._notifier.answered(item_view(preparation, self._store.actions(preparation.id, limit=50)), stamp)
        if preparation.state == State.REQUESTED:
            request = self._request_of(preparation.request_id) if preparation.request_id else None
            return delivered() if request is None else self._notifier.requested(preparation, request, stamp)
        return self._notifier.failed(preparation, preparation.failure or "it could not be prepared", stamp)

    def posted(self, subject: str, connection: Connection) -> None:
        """A lookup's item contents are dropped once its answer is delivered (Restore this version reads the export
        again); a repair's stay until it runs, for approvers to see."""
        preparation = self._store.get(subject, connection)
        if preparation is not None and preparation.kind == Kind.ITEM:
            self._store.forget_images(subject, connection)
