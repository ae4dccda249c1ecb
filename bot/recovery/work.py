"""Recoveries as claimed work (bot/background): the `recovery` kind carries each preparation to its end, and the
`recovery` notes tell its requester (the answer, the request made, or why it failed), each exactly when its state
commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Connection

from bot.background.claims import Claim, WorkState
from bot.background.fence import Fence
from bot.recovery.models import Kind, State
from bot.recovery.notify import RecoveryNotifier
from bot.recovery.prepare import Preparer
from bot.recovery.store import RecoveryStore
from bot.recovery.views import item_view
from bot.restores.models import RestoreRequest


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
    """The `recovery` notes' poster: what the requester (and the approval thread) must hear of a preparation."""

    def __init__(
        self, store: RecoveryStore, notifier: RecoveryNotifier, request_of: Callable[[str], RestoreRequest | None]
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._request_of = request_of

    def post(self, subject: str) -> bool:
        """Post by the preparation's state (the notifier logs, and never repeats, what Slack refused)."""
        preparation = self._store.get(subject)
        if preparation is None:
            return True
        if preparation.state == State.ANSWERED and preparation.kind == Kind.ITEM:
            self._notifier.answered(item_view(preparation, self._store.actions(preparation.id, limit=50)))
        elif preparation.state == State.REQUESTED and preparation.request_id:
            request = self._request_of(preparation.request_id)
            if request is not None:
                self._notifier.requested(preparation, request)
        elif preparation.state == State.FAILED:
            self._notifier.failed(preparation, preparation.failure or "it could not be prepared")
        return True

    def posted(self, subject: str, connection: Connection) -> None:
        """A lookup's item contents are dropped once its answer is delivered (Restore this version reads the export
        again); a repair's stay until it runs, for approvers to see."""
        preparation = self._store.get(subject, connection)
        if preparation is not None and preparation.kind == Kind.ITEM:
            self._store.forget_images(subject, connection)
