"""The work runner: one per replica, it claims due work of every registered kind and runs each with its fence.

A kind is small: `run(item, fence)` does the work and records the feature's final state inside `fence.finishing()`;
`give_up(item, reason, fence)` records it failed and tells people (through the kind's own report, which names
on-call for anything a schedule was meant to back up). The runner decides what happens to the claim afterwards:

- run finished it: nothing more;
- the claim was lost (taken over, or not renewed in time): nothing more, the new holder owns the work;
- the replica is stopping: released, so the next start resumes it without counting an attempt;
- the kind deferred it (waiting for room): released until then, not counted;
- run raised: failed (counted), taken again after a pause that doubles each time;
- run returned without finishing (nothing left to do: the feature's row was already final): done.

A take past the row's attempts is handed to `give_up` instead of `run`. A worker that dies mid-way (a crash, OOM,
a kill) leaves its claim to go stale; any replica's runner then takes it over.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from bot.background.claims import Claim, ClaimLost, WorkState
from bot.background.fence import ClaimKeeper, Fence
from bot.background.periodic import PeriodicJob
from bot.logs import log_context
from bot.metrics import WORK_OUTCOMES

logger = logging.getLogger(__name__)
MAX_RETRY = timedelta(minutes=15)


class Work(Protocol):
    """One kind of background work."""

    def run(self, item: Claim, fence: Fence) -> None:
        """Do (or resume) the work; record its end inside `fence.finishing()`; stop when `fence.halt` is set."""
        ...

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """Record the work as failed for `reason` inside `fence.finishing(WorkState.GIVEN_UP, reason)` and tell
        the people it was for."""
        ...


def always(_key: str, _running: frozenset[str]) -> bool:
    """Admit any due key while the kind has room."""
    return True


@dataclass(frozen=True)
class WorkKind:
    """A kind as the runner schedules it: at most `parallel` at once on this replica, each admitted by `admit(key,
    keys running now)` (restores keep loads, which use this process's CPU, to a smaller share)."""

    name: str
    work: Work
    parallel: int = 1
    admit: Callable[[str, frozenset[str]], bool] = always


@dataclass(frozen=True)
class WorkTiming:
    """How often the runner looks for work, and the first pause before a failed take is tried again."""

    interval: float = 15.0
    first_retry: timedelta = timedelta(seconds=30)

    def retry_after(self, attempts: int) -> timedelta:
        """Doubling with each attempt, at most 15 minutes."""
        pause: timedelta = self.first_retry * 2 ** max(attempts - 1, 0)
        return min(pause, MAX_RETRY)


def perform(keeper: ClaimKeeper, fence: Fence, work: Work, timing: WorkTiming) -> str:
    """Run (or give up) one claimed item in this thread and settle its claim; the outcome, for logs and metrics."""
    item = fence.claim
    try:
        with log_context(work=str(item), attempt=item.attempts):
            fence.step("claimed")
            outcome = _attempt(keeper, fence, work, timing)
    finally:
        keeper.drop(fence)
    WORK_OUTCOMES.labels(item.kind, outcome).inc()
    return outcome


def _attempt(keeper: ClaimKeeper, fence: Fence, work: Work, timing: WorkTiming) -> str:
    item = fence.claim
    try:
        if item.exhausted:
            work.give_up(item, _give_up_reason(item), fence)
        else:
            work.run(item, fence)
    except ClaimLost:
        return "lost"
    except Exception as error:
        if fence.lost is not None:
            return "lost"
        reference = uuid.uuid4().hex[:8]
        logger.exception("work.failed", extra={"work": str(item), "reference": reference})
        failure = f"{type(error).__name__} (reference {reference})"
        keeper.store.fail(item, failure, timing.retry_after(item.attempts))
        return "failed"
    return _settle(keeper, fence)


def _settle(keeper: ClaimKeeper, fence: Fence) -> str:
    item = fence.claim
    if fence.settled is not None:
        return "given_up" if fence.settled == WorkState.GIVEN_UP else "done"
    if fence.lost is not None:
        return "lost"
    if fence.halt.is_set() or fence.deferred is not None:
        if keeper.store.release(item, delay=fence.deferred or timedelta(0)):
            return "deferred" if fence.deferred is not None else "released"
        return "lost"
    try:
        with fence.finishing():
            pass
    except ClaimLost:
        return "lost"
    return "done"


def _give_up_reason(item: Claim) -> str:
    tries = item.max_attempts
    if item.last_error:
        return f"it failed {tries} times; the last time: {item.last_error}"
    return f"the bot stopped {tries} times while doing it (a crash, a restart or a lost database connection)"


class WorkRunner:
    """Background job (start/stop): claims due work of each kind every `interval` (sooner when woken) and runs each
    item in its own thread; the keeper heartbeats them all."""

    def __init__(
        self,
        keeper: ClaimKeeper,
        kinds: Sequence[WorkKind],
        timing: WorkTiming = WorkTiming(),
        *,
        wake: threading.Event | None = None,
        on_cycle: Sequence[Callable[[], object]] = (),
    ) -> None:
        """`on_cycle` runs first in every cycle (the restore approvals' expiry sweep)."""
        self.keeper = keeper
        self.kinds = {kind.name: kind for kind in kinds}
        self.timing = timing
        self._on_cycle = tuple(on_cycle)
        self._job = PeriodicJob("work-runner", timing.interval, self.run_cycle, wake)
        self._running: dict[tuple[str, str], threading.Thread] = {}
        self._lock = threading.Lock()

    @property
    def holder(self) -> str:
        """Who this replica is in the claims."""
        return self.keeper.holder

    def start(self) -> None:
        """Look for work every interval, and keep the claims alive, in daemon threads."""
        self.keeper.start()
        self._job.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop looking for work, ask running work to stop at a safe point, and give its claims back."""
        self._job.stop(timeout)
        for fence in self.keeper.fences():
            fence.stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads():
            thread.join(max(0.0, deadline - time.monotonic()))
        self.keeper.stop(timeout)

    def poke(self) -> None:
        """Look for work now."""
        self._job.poke()

    def running(self, kind: str | None = None) -> set[str]:
        """Keys this replica is working on now (of one kind)."""
        with self._lock:
            return {key for (name, key) in self._running if kind is None or name == kind}

    def run_cycle(self) -> int:
        """Run the sweeps, then start every due item this replica has room for; how many were started."""
        for sweep in self._on_cycle:
            try:
                sweep()
            except Exception:
                logger.exception("work.sweep_failed")
        started = 0
        for kind in self.kinds.values():
            started += self._start_due(kind)
        return started

    def execute(self, kind: str, key: str) -> str | None:
        """Claim one item and run it to its end in this thread; the outcome, or None when it could not be taken."""
        fence = self.keeper.take(kind, key)
        if fence is None:
            return None
        return perform(self.keeper, fence, self.kinds[kind].work, self.timing)

    def run_pending(self, kinds: Iterable[str] | None = None) -> int:
        """Claim and run, in this thread and one after another, every item of these kinds that is due now (what a
        test or the demo's console uses to settle background work at once); how many ran."""
        ran = 0
        for name in list(kinds) if kinds is not None else list(self.kinds):
            for key in self.keeper.store.due(name):
                ran += self.execute(name, key) is not None
        return ran

    def _start_due(self, kind: WorkKind) -> int:
        started = 0
        for key in self.keeper.store.due(kind.name, limit=kind.parallel * 2 + 10):
            if self._job.stopping.is_set():
                break
            running = frozenset(self.running(kind.name))
            if key in running or len(running) >= kind.parallel or not kind.admit(key, running):
                continue
            fence = self.keeper.take(kind.name, key)
            if fence is None:
                continue
            thread = threading.Thread(target=self._run, args=(kind, fence), name=f"work-{kind.name}", daemon=True)
            with self._lock:
                self._running[(kind.name, key)] = thread
            thread.start()
            started += 1
        return started

    def _run(self, kind: WorkKind, fence: Fence) -> None:
        try:
            perform(self.keeper, fence, kind.work, self.timing)
        except Exception:
            logger.exception("work.crashed", extra={"work": str(fence.claim)})
        finally:
            with self._lock:
                self._running.pop((kind.name, fence.claim.key), None)

    def _threads(self) -> list[threading.Thread]:
        with self._lock:
            return list(self._running.values())


@dataclass
class WorkDesk:
    """Runs one piece of work now, in the caller's thread, under the same claim the runner would take (a schedule's
    fire from APScheduler's thread, `/ddb-schedule run` from the request's): if this thread dies mid-way, its claim
    goes stale and any replica's runner takes the work over."""

    keeper: ClaimKeeper
    timing: WorkTiming = field(default_factory=WorkTiming)
    wake: Callable[[], None] = lambda: None  # the work runner's: what the work owes (notes) is posted at once

    def run_now(self, kind: str, key: str, work: Work, *, payload: dict[str, Any] | None = None) -> str | None:
        """Enqueue (kind, key) if new and run it here; None when it is held elsewhere or already settled."""
        self.keeper.store.enqueue(kind, key, payload=payload)
        fence = self.keeper.take(kind, key)
        if fence is None:
            return None
        try:
            return perform(self.keeper, fence, work, self.timing)
        finally:
            self.wake()
