"""A replica's claims kept alive by heartbeats, and fenced the moment they may be lost.

Whoever holds a claim must stop acting as soon as it may have lost it, or two replicas do the same work: each claim
has a `Fence`, whose `halt` event the work watches. The keeper sets it when a heartbeat finds the claim taken, and
also when no heartbeat has succeeded for `hold_for` (half of `stale_after`, counted on this process's monotonic
clock from before the last successful call), so a replica cut off from the database stops well before anyone can
take its claim over. The fence also carries the claim's transactions (`fenced`, `finishing`) and the named steps
at which tests stop a worker dead (`steps`: a no-op in production).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Connection

from bot.background.claims import Claim, ClaimLost, ClaimStore, WorkState

logger = logging.getLogger(__name__)

HEARTBEATS_PER_STALE = 6  # heartbeat every stale_after/6: a few may fail before the claim is at risk
HOLD_FRACTION = 0.5  # fence after stale_after/2 without a successful heartbeat

Steps = Callable[[str, str], None]
"""Called with the work's kind and a step's name as the work passes it: "claimed", "aws_called" (an AWS or Slack
call returned, its answer not recorded yet), "recorded", "target_recorded" (one target of fanned-out work recorded,
the others not yet), "finishing" (inside the final transaction, before it commits)."""
Step = Callable[[str], None]
"""One claim's steps: what `Fence.step` is, and what code that does not know the claim (start_export) is given."""


def no_steps(_kind: str, _step: str) -> None:
    """Production: passing a step does nothing."""


def no_step(_step: str) -> None:
    """Production: passing a step does nothing."""


class Fence:
    """One claim as its holder sees it: set once the holder may no longer act for it (stopping, claim taken, or claim
    not renewed in time), and the transactions in which the holder records what it did."""

    def __init__(self, claim: Claim, store: ClaimStore, deadline: float, steps: Steps = no_steps) -> None:
        self.claim = claim
        self.halt = threading.Event()
        self._steps = steps
        self._store = store
        self._lost: str | None = None
        self._deadline = deadline
        self._settled: WorkState | None = None
        self._deferred: timedelta | None = None
        self._lock = threading.Lock()

    @property
    def lost(self) -> str | None:
        """Why the claim is (or may be) lost; None while it is held or when only stopping halted the work."""
        return self._lost

    @property
    def deadline(self) -> float:
        """Monotonic time at which the claim stops counting unless renewed first."""
        return self._deadline

    @property
    def settled(self) -> WorkState | None:
        """DONE or GIVEN_UP once the final transaction committed."""
        return self._settled

    @property
    def deferred(self) -> timedelta | None:
        """Set by `defer`: the work is to be given back and taken again after this long."""
        return self._deferred

    def renewed(self, deadline: float) -> None:
        """A heartbeat succeeded: the claim counts until `deadline` (never moved back, never revived once lost)."""
        with self._lock:
            if self._lost is None:
                self._deadline = max(self._deadline, deadline)

    def lose(self, reason: str) -> None:
        """The claim is gone (or cannot be known to be held): halt the work for good."""
        with self._lock:
            first = self._lost is None
            if first:
                self._lost = reason
        self.halt.set()
        if first:
            logger.warning("work.claim_lost", extra={"work": str(self.claim), "reason": reason})

    def stop(self) -> None:
        """The replica is stopping: halt the work, the claim is still ours to give back."""
        self.halt.set()

    def step(self, name: str) -> None:
        """The work passes step `name` (tests stop the worker dead at one)."""
        self._steps(self.claim.kind, name)

    def defer(self, delay: timedelta) -> None:
        """Ask to be given back and taken again after `delay`, without counting an attempt (the work must wait)."""
        self._deferred = delay

    @contextmanager
    def fenced(self) -> Iterator[Connection]:
        """A transaction for the feature's own state change, committed only while the claim is held; raises
        ClaimLost (and halts the work) when it is not."""
        try:
            with self._store.fenced(self.claim) as connection:
                yield connection
        except ClaimLost as lost:
            self.lose(str(lost))
            raise

    @contextmanager
    def finishing(self, state: WorkState = WorkState.DONE, error: str | None = None) -> Iterator[Connection]:
        """The final transaction: the feature's last change and the claim settled (done or given up) commit together,
        or neither does."""
        with self.fenced() as connection:
            yield connection
            self._store.settle(self.claim, connection, state, error)
            self.step("finishing")
        self._settled = state


class ClaimKeeper:
    """Takes claims for one holder, heartbeats them from a thread, and fences any that is lost or not renewed."""

    def __init__(
        self,
        store: ClaimStore,
        holder: str,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        steps: Steps = no_steps,
    ) -> None:
        self.store = store
        self.holder = holder
        stale = store.stale_after.total_seconds()
        self.every = stale / HEARTBEATS_PER_STALE
        self.hold_for = stale * HOLD_FRACTION
        self._clock = monotonic
        self._steps = steps
        self._fences: dict[tuple[str, str], Fence] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def take(self, kind: str, key: str) -> Fence | None:
        """Claim the work; its fence, or None when it is not due or another holder's claim is live."""
        started = self._clock()
        claim = self.store.claim(kind, key, self.holder)
        if claim is None:
            return None
        fence = Fence(claim, self.store, started + self.hold_for, self._steps)
        with self._lock:
            self._fences[(kind, key)] = fence
        return fence

    def drop(self, fence: Fence) -> None:
        """Stop heartbeating a claim (its work ended, or was given back)."""
        with self._lock:
            if self._fences.get((fence.claim.kind, fence.claim.key)) is fence:
                del self._fences[(fence.claim.kind, fence.claim.key)]

    def fences(self) -> list[Fence]:
        """The claims being kept."""
        with self._lock:
            return list(self._fences.values())

    def renew(self) -> None:
        """One heartbeat per claim: extends it, or fences it when the store says it is someone else's now."""
        for fence in self.fences():
            if fence.lost is not None:
                continue
            started = self._clock()
            try:
                held = self.store.heartbeat(fence.claim)
            except Exception:
                logger.exception("work.heartbeat_failed", extra={"work": str(fence.claim)})
                continue
            if held:
                fence.renewed(started + self.hold_for)
            else:
                fence.lose("another holder has the claim now")

    def enforce(self) -> None:
        """Fence every claim whose deadline passed without a successful heartbeat (no database call here)."""
        now = self._clock()
        for fence in self.fences():
            if fence.lost is None and now >= fence.deadline:
                fence.lose(f"no heartbeat succeeded for {self.hold_for:.1f}s, so the claim may be taken over")

    def start(self) -> None:
        """Heartbeat in one daemon thread and check deadlines in another, so a hung database call cannot delay a
        fence."""
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._loop, args=(self.renew, self.every), name="work-heartbeat", daemon=True),
            threading.Thread(target=self._loop, args=(self.enforce, self.every / 2), name="work-fence", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop both threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self, step: Callable[[], None], every: float) -> None:
        while not self._stop.wait(every):
            try:
                step()
            except Exception:
                logger.exception("work.keeper_step_failed")
