"""Runs approved restores as claimed work (bot.background.work), and resumes them after a restart.

An approved request is a `restore` work item, enqueued in the approval's own transaction. Whichever replica's work
runner claims it runs it; every write goes through the claim's fence, AWS calls carry a ClientToken or are
recognised when repeated, and the request's end (succeeded, partial, failed, or given up after DDBBOT_WORK_MAX_ATTEMPTS)
commits together with its result note, which bot.background.notes posts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from bot.aws.accounts import Place
from bot.background.claims import Claim, WorkState, enqueue_work
from bot.background.fence import Fence
from bot.background.notes import (
    NOTE,
    POST,
    Delivery,
    Destination,
    NoteStamp,
    approval_destinations,
    delivered,
    note_key,
)
from bot.background.work import WorkKind
from bot.core import Core
from bot.errors import BotError
from bot.logs import log_context
from bot.metrics import RESTORE_OVERDUE, RESTORES, RESTORES_RUNNING
from bot.models import BOT_ACTOR
from bot.restores.cancel_watch import CancelWatch
from bot.restores.executors import Cancelled, Executor, ExecutorContext, Withdrawn
from bot.restores.models import ACTIVE, REPAIR_MODES, RETRYABLE, RestoreMode, RestoreRequest, RestoreStatus
from bot.restores.notify import RestoreNotifier, RestoreOutcome, RestoreProgress
from bot.restores.outcome import ItemsDone, ItemsPromised, check_outcome
from bot.restores.store import RESTORE, RestoreStore

logger = logging.getLogger(__name__)
TAMPERED = "The stored plan no longer matches the approved plan hash; nothing was run."
TOPIC = "restore"  # the note of a request's end: `restore:<id>`
IN_PROCESS = frozenset({RestoreMode.LOAD, *REPAIR_MODES})  # modes whose writes run in this process (not in AWS)
UNREPORTED_PROMISE = ItemsPromised(None, "the restore reported no item count")
UNREPORTED_DONE = ItemsDone(None, "the restore reported no item count")
ENDINGS = RETRYABLE | {RestoreStatus.SUCCEEDED}  # the ends a request's result note tells


@dataclass(frozen=True)
class RunnerTiming:
    """How often running restores poll AWS and report progress (tests use ~0.05 s), and how many run at once."""

    poll_seconds: float = 15.0
    progress_seconds: float = 10.0
    max_parallel: int = 4  # into= loads at once (CPU-bound in this process)
    max_following: int = 200  # ImportTable and PITR restores followed at once (the work runs in AWS)


class RestoreWork:
    """The `restore` kind: run (or resume) one request to its end under its claim.

    A runner whose claim is lost stops its executor (the claim's halt is the executor's cancel), changes nothing
    more in the store and reports nothing: the runner that took the claim over resumes and reports.
    """

    def __init__(
        self,
        core: Core,
        store: RestoreStore,
        notifier: RestoreNotifier,
        executors: dict[str, Executor],
        timing: RunnerTiming = RunnerTiming(),
    ) -> None:
        self._core = core
        self._store = store
        self._notifier = notifier
        self._executors = dict(executors)
        self._timing = timing
        self._due: dict[str, float] = {}  # monotonic time each running restore's estimate runs out
        self._lock = threading.Lock()

    def kind(self) -> WorkKind:
        """How the work runner schedules restores: loads (this process's CPU) get a small share, the rest a large
        one."""
        return WorkKind(RESTORE, self, self._timing.max_parallel + self._timing.max_following, self.admit)

    def admit(self, request_id: str, running: frozenset[str]) -> bool:
        """Room for this request next to the ones running here now."""
        request = self._store.get(request_id)
        if request is None:
            return True
        loads = {r for r in running if (other := self._store.get(r)) is not None and other.mode in IN_PROCESS}
        if request.mode in IN_PROCESS:
            return len(loads) < self._timing.max_parallel
        return len(running) - len(loads) < self._timing.max_following

    def overdue(self) -> int:
        """How many restores this replica runs past their estimated duration (a gauge, refreshed each cycle)."""
        now = time.monotonic()
        with self._lock:
            late = sum(1 for due in self._due.values() if now > due)
        RESTORE_OVERDUE.set(late)
        return late

    # ------------------------------------------------------------------------------------------- run

    def run(self, item: Claim, fence: Fence) -> None:
        """Run or resume the request; its end commits with the claim settled."""
        with log_context(restore_id=item.key):
            request = self._store.get(item.key)
            if request is None or request.status not in ACTIVE:
                return
            if not request.plan_intact:
                self._end(request, fence, None, TAMPERED)
                return
            self._run(self._begin(request, fence), fence)

    def _run(self, request: RestoreRequest, fence: Fence) -> None:
        try:
            outcome = self._run_executor(request, fence)
        except Cancelled:
            self._halted(request, fence)
            return
        except Withdrawn as withdrawn:
            self._end(request, fence, withdrawn.outcome, None, cancelled=True)
            return
        except BotError as error:
            self._end(request, fence, None, str(error))
            return
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("restore.failed", extra={"restore_id": request.id, "reference": reference})
            self._end(request, fence, None, f"Something went wrong on my side (reference `{reference}`).")
            return
        self._end(request, fence, outcome, None)

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """The request failed for good: recorded and reported like any failure."""
        request = self._store.get(item.key)
        if request is None or request.status not in ACTIVE:
            with fence.finishing(WorkState.GIVEN_UP, reason):
                return
        message = f"The bot gave up on this restore: {reason}. Check the target table before asking again."
        self._end(request, fence, None, message, given_up=reason)

    def _run_executor(self, request: RestoreRequest, fence: Fence) -> RestoreOutcome:
        """The executor's run, counted as running (and past its estimate once it takes longer) meanwhile."""
        estimate = request.estimate.duration_seconds if request.estimate else None
        with self._lock:
            self._due[request.id] = time.monotonic() + estimate if estimate else float("inf")
        RESTORES_RUNNING.labels(request.mode).inc()
        try:
            with CancelWatch(self._store, request.id, fence.halt, self._timing.poll_seconds) as watch:
                context = replace(self._context(request, fence), withdrawn=watch.withdrawn, stop=watch.stop)
                return self._executor(request).run(context, request)
        finally:
            RESTORES_RUNNING.labels(request.mode).dec()
            with self._lock:
                self._due.pop(request.id, None)

    def _begin(self, request: RestoreRequest, fence: Fence) -> RestoreRequest:
        """APPROVED → RUNNING (audited as a start), or the note for a RUNNING request picked up again."""
        if request.status == RestoreStatus.APPROVED:
            with fence.fenced() as connection:
                started = self._store.transition(
                    request.id,
                    RestoreStatus.APPROVED,
                    RestoreStatus.RUNNING,
                    started_at=self._core.clock(),
                    connection=connection,
                )
            if started:
                request = self._reload(request.id)
                self._core.store.audit(BOT_ACTOR, "restore.start", request.id, _audit_plan(request), "running")
                self._notifier.started(request, None)
                return request
        resumed = self._executor(request).resume_note(self._context(request, fence), request)
        self._core.store.audit(BOT_ACTOR, "restore.resume", request.id, _audit_plan(request), resumed)
        self._notifier.started(request, resumed)
        return request

    def _halted(self, request: RestoreRequest, fence: Fence) -> None:
        """The executor stopped writing: the runner gives a claim still ours back (it resumes at once), and leaves
        a claim taken over to its new holder, which resumes and reports it."""
        if fence.lost is None:
            logger.info("restore.paused_for_shutdown", extra={"restore_id": request.id})
            return
        logger.warning("restore.stopped_claim_lost", extra={"restore_id": request.id, "reason": fence.lost})

    def _executor(self, request: RestoreRequest) -> Executor:
        return self._executors[request.mode]

    def _context(self, request: RestoreRequest, fence: Fence) -> ExecutorContext:
        def progress(update: RestoreProgress) -> None:
            if not fence.halt.is_set():
                self._notifier.progress(request, update)

        return ExecutorContext(
            core=self._core,
            store=self._store,
            place=Place(request.plan.alias, request.plan.region),
            cancel=fence.halt,
            poll_seconds=self._timing.poll_seconds,
            progress_seconds=self._timing.progress_seconds,
            report=progress,
            fence=fence,
        )

    def _end(
        self,
        request: RestoreRequest,
        fence: Fence,
        outcome: RestoreOutcome | None,
        reason: str | None,
        *,
        given_up: str | None = None,
        cancelled: bool = False,
    ) -> None:
        """The request's end and its result note, committed with the claim settled. A run that ended is judged by
        the one outcome check: SUCCEEDED when it delivered its plan, PARTIAL when it did not; a run that did not end
        is FAILED; a run an operator cancelled is CANCELLED, with what it wrote by then. A fenced runner (its claim
        lost) reports nothing, even an ending it saw: its work may overlap the new holder's."""
        if fence.lost is not None:
            logger.warning("restore.ended_claim_lost", extra={"restore_id": request.id, "reason": fence.lost})
            return
        changes: dict[str, Any] = {"finished_at": self._core.clock()}
        if cancelled:
            status = RestoreStatus.CANCELLED
            check = (
                check_outcome(outcome.promised or UNREPORTED_PROMISE, outcome.done or UNREPORTED_DONE)
                if outcome
                else None
            )
            changes["result"] = replace(outcome, check=check).as_dict() if outcome is not None else {}
            said = f"cancelled: {check.figures}" if check is not None else "cancelled before it wrote anything"
        elif outcome is not None:
            check = check_outcome(outcome.promised or UNREPORTED_PROMISE, outcome.done or UNREPORTED_DONE)
            status = RestoreStatus.PARTIAL if check.partial else RestoreStatus.SUCCEEDED
            changes["result"] = replace(outcome, check=check).as_dict()
            said = f"partial: {check.figures}; {'; '.join(check.reasons)}" if check.partial else "succeeded"
        else:
            status = RestoreStatus.FAILED
            changes["failure_message"] = reason
            said = f"failed: {reason}"
        settled = WorkState.GIVEN_UP if given_up is not None else WorkState.DONE
        with fence.finishing(settled, given_up) as connection:
            ended = self._store.transition(request.id, ACTIVE, status, connection=connection, **changes)
            if ended:
                enqueue_work(connection, NOTE, note_key(TOPIC, request.id))
        if not ended:
            return
        self._core.store.audit(BOT_ACTOR, "restore.finish", request.id, {"target": request.target_display}, said)
        RESTORES.labels(request.mode, status.lower()).inc()

    def _reload(self, request_id: str) -> RestoreRequest:
        found = self._store.get(request_id)
        assert found is not None
        return found


class RestoreResults:
    """The `restore` notes' poster: a request's end told to each of its destinations on its own (bot.background.notes):
    its thread, the approval message's edit, the requester's direct messages and the notification channel."""

    def __init__(self, store: RestoreStore, notifier: RestoreNotifier, notify_channel: str | None = None) -> None:
        self._store = store
        self._notifier = notifier
        self._notify_channel = notify_channel

    def targets(self, subject: str) -> list[str]:
        """Where the end is told, in the order people read it (none while the request has not ended)."""
        request = self._store.get(subject)
        if request is None or request.status not in ENDINGS:
            return []
        places = approval_destinations(request.approval_channel, request.approval_ts, request.requested_by)
        if self._notify_channel and self._notify_channel != request.approval_channel:
            places.append(Destination(POST, self._notify_channel))
        return [place.target() for place in places]

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        """Tell how the request ended to `stamp.target`."""
        request = self._store.get(subject)
        if request is None:
            return delivered()
        if request.status in {RestoreStatus.SUCCEEDED, RestoreStatus.PARTIAL}:
            return self._notifier.finished(request, RestoreOutcome.from_dict(request.result), stamp)
        if request.status == RestoreStatus.FAILED:
            return self._notifier.failed(request, request.failure_message or "no reason was recorded", stamp)
        outcome = RestoreOutcome.from_dict(request.result) if request.result else None
        return self._notifier.cancelled(request, outcome, stamp)

    def posted(self, subject: str, connection: Connection) -> None:
        """Nothing to mark: the request's status is its record."""


def _audit_plan(request: RestoreRequest) -> dict[str, Any]:
    return {"mode": request.mode, "target": request.target_display, "plan_hash": request.plan_hash}
