"""Runs approved restores in the background, and resumes them after a restart.

Any replica may run this: a request is run by whoever claims it in the store (a lease kept alive by
heartbeats), AWS calls carry a ClientToken or are recognised when repeated, and every state change is a CAS.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.aws.accounts import Place
from bot.background.periodic import PeriodicJob
from bot.core import Core
from bot.errors import BotError
from bot.logs import log_context
from bot.metrics import RESTORE_OVERDUE, RESTORES, RESTORES_RUNNING
from bot.models import BOT_ACTOR
from bot.restores.claims import ClaimKeeper, Fence
from bot.restores.executors import Cancelled, Executor, ExecutorContext
from bot.restores.models import REPAIR_MODES, RestoreMode, RestoreRequest, RestoreStatus
from bot.restores.notify import RestoreNotifier, RestoreOutcome, RestoreProgress
from bot.restores.store import RestoreStore

logger = logging.getLogger(__name__)
IN_PROCESS = frozenset({RestoreMode.LOAD, *REPAIR_MODES})  # modes whose writes run in this process (not in AWS)


@dataclass(frozen=True)
class RunnerTiming:
    """How often the runner looks for work, polls AWS and reports progress (tests use ~0.2 s).

    A claim is heartbeated every stale_after/6 by its own thread, whatever the cycle is doing, and its work is
    fenced after stale_after/2 without a successful heartbeat (bot.restores.claims).
    """

    interval: float = 15.0
    poll_seconds: float = 15.0
    progress_seconds: float = 10.0
    stale_after: timedelta = timedelta(minutes=3)
    max_parallel: int = 4  # into= loads at once (CPU-bound in this process)
    max_following: int = 200  # ImportTable and PITR restores followed at once (the work runs in AWS)


class RestoreRunner:
    """Background job: claims APPROVED/RUNNING requests, runs each in its own thread, reports through the notifier.

    A runner that loses a claim stops its executor (the claim's fence is the executor's cancel), changes nothing
    more in the store and reports nothing: the runner that took the claim over resumes and reports.
    """

    def __init__(
        self,
        core: Core,
        store: RestoreStore,
        notifier: RestoreNotifier,
        executors: dict[str, Executor],
        timing: RunnerTiming = RunnerTiming(),
        *,
        runner_id: str | None = None,
        on_cycle: Callable[[], object] | None = None,
        wake: threading.Event | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`on_cycle` runs first in every cycle (the approval expiry sweep); setting `wake` runs a cycle at once;
        `monotonic` is the clock claims are counted on (tests drive it)."""
        self._core = core
        self._store = store
        self._notifier = notifier
        self._timing = timing
        self.runner_id = runner_id or f"runner-{uuid.uuid4().hex[:12]}"
        self.claims = ClaimKeeper(store, self.runner_id, timing.stale_after, monotonic)
        self._executors = dict(executors)
        self._on_cycle = on_cycle
        self._job = PeriodicJob("restore-runner", timing.interval, self.run_cycle, wake)
        self._running: dict[str, threading.Thread] = {}
        self._loads: set[str] = set()
        self._due: dict[str, float] = {}  # monotonic time each running restore's estimate runs out
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------- Background

    def start(self) -> None:
        """Look for work every interval, and keep the claims alive, in daemon threads."""
        self.claims.start()
        self._job.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop looking for work, ask running restores to pause at a safe point, and give their claims back."""
        self._job.stop(timeout)
        for fence in self.claims.fences():
            fence.stop()
        deadline = time.monotonic() + timeout
        for thread in list(self._running.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        self.claims.stop(timeout)

    def poke(self) -> None:
        """Look for work now (a request was just approved)."""
        self._job.poke()

    def running(self) -> set[str]:
        """Ids of the requests this runner is executing now."""
        with self._lock:
            return set(self._running)

    # ---------------------------------------------------------------------------------------- cycle

    def run_cycle(self) -> int:
        """Sweep (expiry), then start every runnable request this runner can claim."""
        if self._on_cycle is not None:
            try:
                self._on_cycle()
            except Exception:
                logger.exception("restore-runner: sweep failed")
        with self._lock:
            now = time.monotonic()
            RESTORE_OVERDUE.set(sum(1 for due in self._due.values() if now > due))
        started = 0
        for request in self._store.runnable():
            if self._job.stopping.is_set():
                break
            with self._lock:
                if request.id in self._running or self._full(request):
                    continue
            fence = self.claims.claim(request.id)
            if fence is None:
                continue
            thread = threading.Thread(
                target=self._run_claimed, args=(fence,), name=f"restore-{request.id}", daemon=True
            )
            with self._lock:
                self._running[request.id] = thread
                if request.plan.mode in IN_PROCESS:
                    self._loads.add(request.id)
            thread.start()
            started += 1
        return started

    def _full(self, request: RestoreRequest) -> bool:
        """Loads share a small limit (they use this process's CPU); restores that run in AWS a large one."""
        if request.plan.mode in IN_PROCESS:
            return len(self._loads) >= self._timing.max_parallel
        return len(self._running) - len(self._loads) >= self._timing.max_following

    def _run_claimed(self, fence: Fence) -> None:
        try:
            self._execute(fence)
        except Exception:
            logger.exception("restore-runner: request=%s crashed", fence.request_id)
        finally:
            self.claims.drop(fence.request_id)
            with self._lock:
                self._running.pop(fence.request_id, None)
                self._loads.discard(fence.request_id)

    # -------------------------------------------------------------------------------------- execute

    def execute(self, request_id: str) -> str | None:
        """Claim and run (or resume) one request to its end in this thread; its final status, None when it was
        not runnable, someone else holds it, or it paused."""
        fence = self.claims.claim(request_id)
        if fence is None:
            return None
        try:
            return self._execute(fence)
        finally:
            self.claims.drop(request_id)

    def _execute(self, fence: Fence) -> str | None:
        with log_context(restore_id=fence.request_id):
            return self._execute_claimed(fence)

    def _execute_claimed(self, fence: Fence) -> str | None:
        request = self._store.get(fence.request_id)
        if request is None or request.status not in {RestoreStatus.APPROVED, RestoreStatus.RUNNING}:
            return None
        if not request.plan_intact:
            reason = "The stored plan no longer matches the approved plan hash; nothing was run."
            return self._fail(request, fence, reason)
        started = self._begin(request, fence)
        if started is None:
            return None
        request, resumed = started
        self._notifier.started(request, resumed)
        try:
            outcome = self._run_executor(request, fence)
        except Cancelled:
            self._halted(request, fence)
            return None
        except BotError as error:
            return self._fail(request, fence, str(error))
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("restore-runner: request=%s failed reference=%s", request.id, reference)
            return self._fail(request, fence, f"Something went wrong on my side (reference `{reference}`).")
        return self._succeed(request, fence, outcome)

    def _run_executor(self, request: RestoreRequest, fence: Fence) -> RestoreOutcome:
        """The executor's run, counted as running (and past its estimate once it takes longer) meanwhile."""
        estimate = request.estimate.duration_seconds if request.estimate else None
        with self._lock:
            self._due[request.id] = time.monotonic() + estimate if estimate else float("inf")
        RESTORES_RUNNING.labels(request.mode).inc()
        try:
            return self._executor(request).run(self._context(request, fence), request)
        finally:
            RESTORES_RUNNING.labels(request.mode).dec()
            with self._lock:
                self._due.pop(request.id, None)

    def _begin(self, request: RestoreRequest, fence: Fence) -> tuple[RestoreRequest, str | None] | None:
        """APPROVED → RUNNING (audited as a start), or the note for a RUNNING request picked up again."""
        if request.status == RestoreStatus.APPROVED:
            now = self._core.clock()
            if not self._store.transition(
                request.id, RestoreStatus.APPROVED, RestoreStatus.RUNNING, started_at=now, runner=self.runner_id
            ):
                return None
            request = self._reload(request.id)
            self._core.store.audit(BOT_ACTOR, "restore.start", request.id, _audit_plan(request), "running")
            return request, None
        resumed = self._executor(request).resume_note(self._context(request, fence), request)
        self._core.store.audit(BOT_ACTOR, "restore.resume", request.id, _audit_plan(request), resumed)
        return request, resumed

    def _halted(self, request: RestoreRequest, fence: Fence) -> None:
        """The executor stopped writing: give the claim back if it is still ours (so it resumes at once), and leave
        a claim taken over to its new holder, which resumes and reports it."""
        try:
            released = self._store.release(request.id, self.runner_id)
        except Exception:
            logger.exception("restore-runner: request=%s could not be given back; it resumes once stale", request.id)
            released = False
        if fence.lost is None and released:
            logger.info("restore-runner: request=%s paused for shutdown; it resumes on the next start", request.id)
            return
        logger.warning(
            "restore-runner: request=%s stopped because its claim was lost (%s); not reported here, "
            "the runner holding the claim resumes and reports it",
            request.id,
            fence.lost or "another runner holds it in the store",
        )

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
            holder=self.runner_id,
        )

    def _succeed(self, request: RestoreRequest, fence: Fence, outcome: RestoreOutcome) -> str | None:
        if self._claim_lost(request, fence, "succeeded"):
            return None
        now = self._core.clock()
        if not self._store.transition(
            request.id,
            RestoreStatus.RUNNING,
            RestoreStatus.SUCCEEDED,
            finished_at=now,
            result=outcome.as_dict(),
            runner=self.runner_id,
        ):
            return self._not_ours(request, "succeeded")
        self._core.store.audit(BOT_ACTOR, "restore.finish", request.id, {"target": request.target_display}, "succeeded")
        RESTORES.labels(request.mode, "succeeded").inc()
        self._notifier.finished(self._reload(request.id), outcome)
        return RestoreStatus.SUCCEEDED

    def _fail(self, request: RestoreRequest, fence: Fence, reason: str) -> str | None:
        if self._claim_lost(request, fence, "failed"):
            return None
        now = self._core.clock()
        if not self._store.transition(
            request.id,
            {RestoreStatus.APPROVED, RestoreStatus.RUNNING},
            RestoreStatus.FAILED,
            finished_at=now,
            failure_message=reason,
            runner=self.runner_id,
        ):
            return self._not_ours(request, "failed")
        self._core.store.audit(
            BOT_ACTOR, "restore.finish", request.id, {"target": request.target_display}, f"failed: {reason}"
        )
        RESTORES.labels(request.mode, "failed").inc()
        self._notifier.failed(self._reload(request.id), reason)
        return RestoreStatus.FAILED

    def _claim_lost(self, request: RestoreRequest, fence: Fence, ending: str) -> bool:
        """A fenced runner reports nothing, even an ending it saw: its work may overlap the new holder's."""
        if fence.lost is None:
            return False
        logger.warning(
            "restore-runner: request=%s ended (%s) after its claim was lost (%s); not reported here",
            request.id,
            ending,
            fence.lost,
        )
        return True

    def _not_ours(self, request: RestoreRequest, ending: str) -> str:
        current = self._reload(request.id)
        if current.runner != self.runner_id:
            logger.warning(
                "restore-runner: request=%s ended (%s) but runner=%s holds it now; not reported here",
                request.id,
                ending,
                current.runner,
            )
        return current.status

    def _reload(self, request_id: str) -> RestoreRequest:
        found = self._store.get(request_id)
        assert found is not None
        return found


def _audit_plan(request: RestoreRequest) -> dict[str, Any]:
    return {"mode": request.mode, "target": request.target_display, "plan_hash": request.plan_hash}
