"""Runs queued verifications as claimed work (bot.background.work): one at a time per replica, each held by exactly
one replica, whose claim's halt stops the streaming the moment the claim may be lost.

A clean stop gives the claim back, and a replica that died leaves a claim that goes stale: either way the next
holder starts the verification over and says so in its thread; a verification taken DDBBOT_WORK_MAX_ATTEMPTS times
is recorded failed. The result commits with its note, which bot.background.notes posts.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy import Connection

from bot.aws.accounts import Place
from bot.background.claims import Claim, WorkState
from bot.background.fence import Fence
from bot.background.notes import EDIT, POST, THREAD, Delivery, Destination, NoteStamp, delivered
from bot.core import Core
from bot.exports.reference import ReferenceStore
from bot.loader.lines import ExportLineReader
from bot.logs import log_context
from bot.verification.models import Verification, VerificationStatus
from bot.verification.store import VerificationStore
from bot.verification.stream import Halted
from bot.verification.verify import Failure, VerifyOutcome, VerifyProgress, verify_export

logger = logging.getLogger(__name__)
NO_KEYS = "the table's key attributes are unknown, so each line was checked as a record but its key was not"


class VerificationNotifier(Protocol):
    """Where a verification reports: a message to thread under, progress, and the result."""

    def started(self, verification: Verification, resumed: bool) -> str | None:
        """Announce the start (or the restart after a runner stopped); the thread's ts when a message was posted."""
        ...

    def progress(self, verification: Verification, progress: VerifyProgress) -> None:
        """How far it is."""
        ...

    def finished(self, verification: Verification, stamp: NoteStamp) -> Delivery:
        """The result, to one of its destinations (`stamp.target`: its thread, or the edit of the thread's parent)."""
        ...


@dataclass(frozen=True)
class VerificationTiming:
    """How often to report progress."""

    progress_seconds: float


class VerificationWork:
    """The `verification` kind."""

    def __init__(
        self,
        core: Core,
        store: VerificationStore,
        references: ReferenceStore,
        notifier: VerificationNotifier,
        timing: VerificationTiming,
    ) -> None:
        self._core = core
        self._store = store
        self._references = references
        self._notifier = notifier
        self._timing = timing

    def run(self, item: Claim, fence: Fence) -> None:
        """Stream the export and record the outcome (started over when taken over or resumed after a stop)."""
        verification = self._store.get(item.key)
        if verification is None or verification.finished:
            return
        with log_context(verification_id=verification.id, export_id=verification.target.export_id):
            resumed = verification.status == VerificationStatus.RUNNING
            with fence.fenced() as connection:
                self._store.start(verification.id, connection)
            thread = self._notifier.started(verification, resumed)
            if thread and thread != verification.thread_ts:
                self._store.set_thread(verification.id, thread)
                verification = replace(verification, thread_ts=thread)
            try:
                outcome = self._verify(verification, _Reporter(verification, self._timing, self._notifier), fence)
            except Halted:
                logger.info("verification.halted")
                return
            fence.step("aws_called")
            with fence.finishing() as connection:
                self._store.finish(verification.id, outcome, connection)

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """Recorded failed for `reason`, and its result posted like any other."""
        failure = Failure(item.key, f"could not be verified: the bot gave up ({reason})")
        with fence.finishing(WorkState.GIVEN_UP, reason) as connection:
            self._store.finish(item.key, VerifyOutcome(0, 0, 0, 0.0, (failure,), 1), connection)

    def _verify(self, verification: Verification, report: _Reporter, fence: Fence) -> VerifyOutcome:
        target = verification.target
        try:
            reference = self._references.get(target.export_arn) if target.export_arn else None
            s3 = self._core.aws.s3(Place(target.read_alias, target.read_region))
            reader = ExportLineReader(target.key_names)
            outcome = verify_export(s3, target.location, reference, reader, on_progress=report, halt=fence.halt)
        except Halted:
            raise
        except Exception:
            reference_id = uuid.uuid4().hex[:8]
            logger.exception("verification.failed", extra={"reference": reference_id})
            failure = Failure(target.label, f"could not be verified: something went wrong (reference {reference_id})")
            return VerifyOutcome(0, 0, 0, 0.0, (failure,), 1)
        if not target.key_names:
            return replace(outcome, notes=(*outcome.notes, NO_KEYS))
        return outcome


class VerificationResults:
    """The `verification` notes' poster: the result in its thread and on the parent message, each delivered, retried
    and reported on its own (bot.background.notes)."""

    def __init__(self, store: VerificationStore, notifier: VerificationNotifier) -> None:
        self._store = store
        self._notifier = notifier

    def targets(self, subject: str) -> list[str]:
        """Its thread (the channel, when it has none) and the parent's edit; none while it runs or when asked
        nowhere."""
        verification = self._store.get(subject)
        if verification is None or not verification.finished or not verification.channel_id:
            return []
        if not verification.thread_ts:
            return [Destination(POST, verification.channel_id).target()]
        return [Destination(how, verification.channel_id).target() for how in (THREAD, EDIT)]

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        """Post the result to `stamp.target`."""
        verification = self._store.get(subject)
        return delivered() if verification is None else self._notifier.finished(verification, stamp)

    def posted(self, subject: str, connection: Connection) -> None:
        """Nothing to mark: the verification's status is its record."""


class _Reporter:
    """The progress callback: posts progress at its pace (the keeper heartbeats the claim)."""

    def __init__(self, verification: Verification, timing: VerificationTiming, notifier: VerificationNotifier) -> None:
        self._verification = verification
        self._timing = timing
        self._notifier = notifier
        self._posted_at = time.monotonic()

    def __call__(self, progress: VerifyProgress) -> None:
        now = time.monotonic()
        if now - self._posted_at >= self._timing.progress_seconds:
            self._posted_at = now
            try:
                self._notifier.progress(self._verification, progress)
            except Exception:
                logger.exception("verification.progress_not_posted")
