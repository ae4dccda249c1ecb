"""Runs queued verifications in the background, one at a time per replica, each held by exactly one runner.

A verification is claimed in the store before it runs and heartbeated as it streams; a heartbeat that finds the
claim taken stops the work (nothing is written after that). A clean stop gives the claim back, and a runner that
died leaves a claim that goes stale: either way the next runner starts the verification over and says so in its
thread, so none is forgotten across restarts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from bot.aws.accounts import Place
from bot.background.periodic import PeriodicJob
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

    def finished(self, verification: Verification) -> None:
        """The result."""
        ...


@dataclass(frozen=True)
class VerificationTiming:
    """How often to look for work, when a claim goes stale, how often to report progress."""

    interval: float
    stale_after: timedelta
    progress_seconds: float

    @property
    def heartbeat_seconds(self) -> float:
        """A sixth of the stale time: a few heartbeats may fail before the claim is at risk."""
        return self.stale_after.total_seconds() / 6


class VerificationRunner:
    """Background job (start/stop): claims active verifications and runs them."""

    def __init__(
        self,
        core: Core,
        store: VerificationStore,
        references: ReferenceStore,
        notifier: VerificationNotifier,
        timing: VerificationTiming,
        *,
        runner_id: str | None = None,
        wake: threading.Event | None = None,
    ) -> None:
        self._core = core
        self._store = store
        self._references = references
        self._notifier = notifier
        self._timing = timing
        self.runner_id = runner_id or f"verify-{uuid.uuid4().hex[:12]}"
        self._job = PeriodicJob("verifications", timing.interval, self.run_cycle, wake)

    def start(self) -> None:
        """Run cycles in a daemon thread until stop()."""
        self._job.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop: a verification in progress halts and gives its claim back."""
        self._job.stop(timeout)

    def poke(self) -> None:
        """Look for work now (a verification was queued)."""
        self._job.poke()

    def run_cycle(self) -> int:
        """Run every active verification this runner can claim; how many it ran to the end."""
        done = 0
        for verification in self._store.active():
            if self._job.stopping.is_set():
                break
            resumed = verification.status == VerificationStatus.RUNNING
            if self._store.claim(verification.id, self.runner_id, self._timing.stale_after):
                with log_context(verification_id=verification.id, export_id=verification.target.export_id):
                    done += self._run(verification, resumed)
        return done

    def _run(self, verification: Verification, resumed: bool) -> bool:
        thread = self._notifier.started(verification, resumed)
        if thread and thread != verification.thread_ts:
            self._store.set_thread(verification.id, thread)
            verification = replace(verification, thread_ts=thread)
        halt = threading.Event()
        report = self._reporter(verification, halt)
        try:
            outcome = self._verify(verification, report, halt)
        except Halted:
            if self._job.stopping.is_set():
                self._store.release(verification.id, self.runner_id)
                logger.info("verification stopped with the bot; the next runner starts it over")
            return False
        finished = self._store.finish(verification.id, self.runner_id, outcome)
        if finished is None:
            logger.warning("verification finished after its claim was taken; its result was not recorded")
            return False
        self._notifier.finished(finished)
        return True

    def _verify(self, verification: Verification, report: _Reporter, halt: threading.Event) -> VerifyOutcome:
        target = verification.target
        try:
            reference = self._references.get(target.export_arn) if target.export_arn else None
            s3 = self._core.aws.s3(Place(target.read_alias, target.read_region))
            reader = ExportLineReader(target.key_names)
            outcome = verify_export(s3, target.location, reference, reader, on_progress=report, halt=halt)
        except Halted:
            raise
        except Exception:
            reference_id = uuid.uuid4().hex[:8]
            logger.exception("verification failed unexpectedly reference=%s", reference_id)
            failure = Failure(target.label, f"could not be verified: something went wrong (reference {reference_id})")
            return VerifyOutcome(0, 0, 0, 0.0, (failure,), 1)
        if not target.key_names:
            return replace(outcome, notes=(*outcome.notes, NO_KEYS))
        return outcome

    def _reporter(self, verification: Verification, halt: threading.Event) -> _Reporter:
        return _Reporter(
            verification,
            halt,
            stopping=self._job.stopping,
            timing=self._timing,
            heartbeat=lambda: self._heartbeat(verification, halt),
            notifier=self._notifier,
        )

    def _heartbeat(self, verification: Verification, halt: threading.Event) -> None:
        try:
            held = self._store.heartbeat(verification.id, self.runner_id)
        except Exception:
            logger.exception("verification heartbeat failed; trying again")
            return
        if not held:
            logger.warning("verification claim taken by another runner; this one stops")
            halt.set()


class _Reporter:
    """The progress callback: halts on stop, heartbeats the claim and posts progress, each at its own pace."""

    def __init__(
        self,
        verification: Verification,
        halt: threading.Event,
        *,
        stopping: threading.Event,
        timing: VerificationTiming,
        heartbeat: Callable[[], None],
        notifier: VerificationNotifier,
    ) -> None:
        self._verification = verification
        self._halt = halt
        self._stopping = stopping
        self._timing = timing
        self._heartbeat = heartbeat
        self._notifier = notifier
        self._beat_at = self._posted_at = time.monotonic()

    def __call__(self, progress: VerifyProgress) -> None:
        if self._stopping.is_set():
            self._halt.set()
        now = time.monotonic()
        if now - self._beat_at >= self._timing.heartbeat_seconds:
            self._beat_at = now
            self._heartbeat()
        if now - self._posted_at >= self._timing.progress_seconds:
            self._posted_at = now
            try:
                self._notifier.progress(self._verification, progress)
            except Exception:
                logger.exception("could not post verification progress")
