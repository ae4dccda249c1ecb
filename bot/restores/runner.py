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
from bot.models import BOT_ACTOR
from bot.restores.executors import Cancelled, Executor, ExecutorContext
from bot.restores.models import RestoreMode, RestoreRequest, RestoreStatus
from bot.restores.notify import RestoreNotifier, RestoreOutcome, RestoreProgress
from bot.restores.store import RestoreStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunnerTiming:
    """How often the runner looks for work, polls AWS and reports progress (tests use ~0.2 s)."""

    interval: float = 15.0
    poll_seconds: float = 15.0
    progress_seconds: float = 10.0
    stale_after: timedelta = timedelta(minutes=3)
    max_parallel: int = 4  # into= loads at once (CPU-bound in this process)
    max_following: int = 200  # ImportTable and PITR restores followed at once (the work runs in AWS)


class RestoreRunner:
    """Background job: claims APPROVED/RUNNING requests, runs each in its own thread, reports through the notifier."""

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
    ) -> None:
        """`on_cycle` runs first in every cycle (the approval expiry sweep); setting `wake` runs a cycle at once."""
        self._core = core
        self._store = store
        self._notifier = notifier
        self._timing = timing
        self.runner_id = runner_id or f"runner-{uuid.uuid4().hex[:12]}"
        self._executors = dict(executors)
        self._on_cycle = on_cycle
        self._job = PeriodicJob("restore-runner", timing.interval, self.run_cycle, wake)
        self._running: dict[str, threading.Thread] = {}
        self._loads: set[str] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------- Background

    def start(self) -> None:
        """Look for work every interval in a daemon thread."""
        self._job.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop looking for work, ask running restores to pause at a safe point, and give their leases back."""
        self._job.stop(timeout)
        deadline = time.monotonic() + timeout
        for thread in list(self._running.values()):
            thread.join(max(0.0, deadline - time.monotonic()))

    def poke(self) -> None:
        """Look for work now (a request was just approved)."""
        self._job.poke()

    # ---------------------------------------------------------------------------------------- cycle

    def run_cycle(self) -> int:
        """Sweep (expiry), keep leases alive, and start every runnable request this runner can claim."""
        if self._on_cycle is not None:
            try:
                self._on_cycle()
            except Exception:
                logger.exception("restore-runner: sweep failed")
        with self._lock:
            running = list(self._running)
        for request_id in running:
            self._store.heartbeat(request_id, self.runner_id)
        started = 0
        stale_before = self._core.clock() - self._timing.stale_after
        for request in self._store.runnable():
            if self._job.stopping.is_set():
                break
            with self._lock:
                if request.id in self._running or self._full(request):
                    continue
            if not self._store.claim(request.id, self.runner_id, stale_before):
                continue
            thread = threading.Thread(
                target=self._run_claimed, args=(request.id,), name=f"restore-{request.id}", daemon=True
            )
            with self._lock:
                self._running[request.id] = thread
                if request.plan.mode == RestoreMode.LOAD:
                    self._loads.add(request.id)
            thread.start()
            started += 1
        return started

    def _full(self, request: RestoreRequest) -> bool:
        """Loads share a small limit (they use this process's CPU); restores that run in AWS a large one."""
        if request.plan.mode == RestoreMode.LOAD:
            return len(self._loads) >= self._timing.max_parallel
        return len(self._running) - len(self._loads) >= self._timing.max_following

    def _run_claimed(self, request_id: str) -> None:
        try:
            self.execute(request_id)
        except Exception:
            logger.exception("restore-runner: request=%s crashed", request_id)
        finally:
            with self._lock:
                self._running.pop(request_id, None)
                self._loads.discard(request_id)

    # -------------------------------------------------------------------------------------- execute

    def execute(self, request_id: str) -> str | None:
        """Run (or resume) one claimed request to its end; returns its final status, None when paused."""
        request = self._store.get(request_id)
        if request is None or request.status not in {RestoreStatus.APPROVED, RestoreStatus.RUNNING}:
            return None
        if not request.plan_intact:
            return self._fail(request, "The stored plan no longer matches the approved plan hash; nothing was run.")
        resumed = None
        now = self._core.clock()
        if request.status == RestoreStatus.APPROVED:
            if not self._store.transition(request.id, RestoreStatus.APPROVED, RestoreStatus.RUNNING, started_at=now):
                return None
            request = self._reload(request.id)
            self._core.store.audit(BOT_ACTOR, "restore.start", request.id, _audit_plan(request), "running")
        else:
            resumed = self._executor(request).resume_note(self._context(request), request)
            self._core.store.audit(BOT_ACTOR, "restore.resume", request.id, _audit_plan(request), resumed)
        self._notifier.started(request, resumed)
        try:
            outcome = self._executor(request).run(self._context(request), request)
        except Cancelled:
            self._store.release(request.id, self.runner_id)
            logger.info("restore-runner: request=%s paused for shutdown; it resumes on the next start", request.id)
            return None
        except BotError as error:
            return self._fail(request, str(error))
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("restore-runner: request=%s failed reference=%s", request.id, reference)
            return self._fail(request, f"Something went wrong on my side (reference `{reference}`).")
        return self._succeed(request, outcome)

    def _executor(self, request: RestoreRequest) -> Executor:
        return self._executors[request.mode]

    def _context(self, request: RestoreRequest) -> ExecutorContext:
        def progress(update: RestoreProgress) -> None:
            self._store.heartbeat(request.id, self.runner_id)
            self._notifier.progress(request, update)

        return ExecutorContext(
            core=self._core,
            store=self._store,
            place=Place(request.plan.alias, request.plan.region),
            cancel=self._job.stopping,
            poll_seconds=self._timing.poll_seconds,
            progress_seconds=self._timing.progress_seconds,
            report=progress,
        )

    def _succeed(self, request: RestoreRequest, outcome: RestoreOutcome) -> str:
        now = self._core.clock()
        if not self._store.transition(
            request.id, RestoreStatus.RUNNING, RestoreStatus.SUCCEEDED, finished_at=now, result=outcome.as_dict()
        ):
            return self._reload(request.id).status
        self._core.store.audit(BOT_ACTOR, "restore.finish", request.id, {"target": request.target_display}, "succeeded")
        self._notifier.finished(self._reload(request.id), outcome)
        return RestoreStatus.SUCCEEDED

    def _fail(self, request: RestoreRequest, reason: str) -> str:
        now = self._core.clock()
        if not self._store.transition(
            request.id,
            {RestoreStatus.APPROVED, RestoreStatus.RUNNING},
            RestoreStatus.FAILED,
            finished_at=now,
            failure_message=reason,
        ):
            return self._reload(request.id).status
        self._core.store.audit(
            BOT_ACTOR, "restore.finish", request.id, {"target": request.target_display}, f"failed: {reason}"
        )
        self._notifier.failed(self._reload(request.id), reason)
        return RestoreStatus.FAILED

    def _reload(self, request_id: str) -> RestoreRequest:
        found = self._store.get(request_id)
        assert found is not None
        return found


def _audit_plan(request: RestoreRequest) -> dict[str, Any]:
    return {"mode": request.mode, "target": request.target_display, "plan_hash": request.plan_hash}
