"""Runs queued drills as claimed work (bot.background.work): each held by one replica while it verifies, imports (or
restores to a point in time) and compares; a replica that takes a drill over follows the import (restore) already
recorded instead of starting another, and a drill taken DDBBOT_WORK_MAX_ATTEMPTS times is recorded failed. The
result commits with its note."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Connection

from bot.background.claims import Claim, ClaimLost, WorkState
from bot.background.fence import Fence
from bot.background.notes import Delivery, NoteStamp, delivered
from bot.core import Core
from bot.drills.drill import DrillContext, clean_up, prove_drill
from bot.drills.models import Drill, DrillResult
from bot.drills.point_in_time import prove_pitr_drill
from bot.drills.store import DrillStore
from bot.exports.reference import ReferenceStore
from bot.logs import log_context
from bot.verification.stream import Halted

logger = logging.getLogger(__name__)


class DrillNotifier(Protocol):
    """Where a drill's result goes."""

    def drill_finished(self, drill: Drill, stamp: NoteStamp) -> Delivery:
        """Post the result to one channel (`stamp.target`), once."""
        ...


class DrillWork:
    """The `drill` kind; `poll` is how long to wait between looks at a running import."""

    def __init__(self, core: Core, store: DrillStore, references: ReferenceStore, poll: timedelta) -> None:
        self._core = core
        self._store = store
        self._references = references
        self._poll = poll

    def run(self, item: Claim, fence: Fence) -> None:
        """Run (or resume) the drill and record its result."""
        drill = self._store.get(item.key)
        if drill is None or drill.finished:
            return
        with log_context(drill_id=drill.id, table=drill.spec.table_key):
            with fence.fenced() as connection:
                self._store.start(drill.id, connection)
            context = self._context(drill, fence)
            try:
                result = drill.result if drill.result.proved else self._prove(drill, context, fence)
            except Halted:
                logger.info("drill.halted")
                return
            result = clean_up(context, self._store.get(drill.id) or drill, result)
            with fence.finishing() as connection:
                self._store.finish(drill.id, result, connection)

    def _prove(self, drill: Drill, context: DrillContext, fence: Fence) -> DrillResult:
        """The checks, their finding kept under the claim before the table is deleted."""
        try:
            current = self._store.get(drill.id) or drill
            prove = prove_pitr_drill if current.spec.from_pitr else prove_drill
            result = prove(current, context)
        except Halted:
            raise
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("drill.failed", extra={"reference": reference})
            result = DrillResult(failure=f"something went wrong on the bot's side (reference {reference})", proved=True)
        with fence.fenced() as connection:
            self._store.record_proof(drill.id, result, connection)
        return result

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """Recorded failed for `reason` (its throwaway table named, in case it was left), and its result posted."""
        drill = self._store.get(item.key)
        table = f" Its table `{drill.spec.drill_table}` may be left behind." if drill is not None else ""
        result = DrillResult(failure=f"the bot gave up: {reason}.{table}")
        with fence.finishing(WorkState.GIVEN_UP, reason) as connection:
            self._store.finish(item.key, result, connection)

    def _context(self, drill: Drill, fence: Fence) -> DrillContext:
        def record_import(import_arn: str) -> None:
            fence.step("aws_called")
            try:
                with fence.fenced() as connection:
                    self._store.record_import(drill.id, import_arn, connection)
            except ClaimLost as lost:
                raise Halted from lost
            fence.step("recorded")

        def wait() -> None:
            fence.halt.wait(self._poll.total_seconds())

        return DrillContext(self._core, self._references, fence.halt, record_import, wait, self._core.clock)


class DrillResults:
    """The `drill` notes' poster: the result to the channel it was asked in and the notification channel, each
    delivered on its own."""

    def __init__(self, store: DrillStore, notifier: DrillNotifier, notify_channel: str | None) -> None:
        self._store = store
        self._notifier = notifier
        self._notify_channel = notify_channel

    def targets(self, subject: str) -> list[str]:
        """The channel it was asked in and the notification channel (none while it runs)."""
        drill = self._store.get(subject)
        if drill is None or not drill.finished:
            return []
        return list(dict.fromkeys(c for c in (drill.channel_id, self._notify_channel) if c))

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        """Post the result to one of its channels."""
        drill = self._store.get(subject)
        return delivered() if drill is None else self._notifier.drill_finished(drill, stamp)

    def scheduled(self, subject: str) -> bool:
        """A schedule's drill: on-call is told when its result does not reach a channel."""
        drill = self._store.get(subject)
        return drill is not None and drill.scheduled

    def posted(self, subject: str, connection: Connection) -> None:
        """Nothing to mark: the drill's status is its record."""
