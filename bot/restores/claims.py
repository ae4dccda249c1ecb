"""A runner's claims on restore requests, kept alive by heartbeats and fenced when lost.

A claim is a row in the store (runner, heartbeat_at) that another runner may take once its heartbeat is older than
`stale_after` by the database's clock. Whoever holds a claim must stop acting the moment it may have lost it, or two
runners write the same table: each claim has a `Fence`, an event the executor's cancel watches. The keeper sets it
when a heartbeat finds the claim taken, and also when no heartbeat has succeeded for `hold_for` (half of
`stale_after`, counted on this process's monotonic clock from before the last successful call), so a runner cut off
from the database stops writing well before anyone can take its claim over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from bot.restores.store import RestoreStore

logger = logging.getLogger(__name__)

HEARTBEATS_PER_STALE = 6  # heartbeat every stale_after/6: a few may fail before the claim is at risk
HOLD_FRACTION = 0.5  # fence after stale_after/2 without a successful heartbeat


class Fence:
    """Set once this runner may no longer act for one request: stopping, claim taken, or claim not renewed."""

    def __init__(self, request_id: str, deadline: float) -> None:
        self.request_id = request_id
        self.halt = threading.Event()
        self._lost: str | None = None
        self._deadline = deadline
        self._lock = threading.Lock()

    @property
    def lost(self) -> str | None:
        """Why the claim is (or may be) lost; None while it is held or when only stopping halted the work."""
        return self._lost

    @property
    def deadline(self) -> float:
        """Monotonic time at which the claim stops counting unless renewed first."""
        return self._deadline

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
            logger.warning("restore claim lost request=%s: %s; its work stops now", self.request_id, reason)

    def stop(self) -> None:
        """The runner is stopping: halt the work, the claim is still ours to give back."""
        self.halt.set()


class ClaimKeeper:
    """Claims requests for one runner, heartbeats them, and fences any whose claim is lost or not renewed in time."""

    def __init__(
        self,
        store: RestoreStore,
        runner_id: str,
        stale_after: timedelta,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runner_id = runner_id
        self.stale_after = stale_after
        self.every = stale_after.total_seconds() / HEARTBEATS_PER_STALE
        self.hold_for = stale_after.total_seconds() * HOLD_FRACTION
        self._store = store
        self._clock = clock
        self._fences: dict[str, Fence] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def claim(self, request_id: str) -> Fence | None:
        """Take the request in the store; its fence, or None when another runner holds a live claim."""
        started = self._clock()
        if not self._store.claim(request_id, self.runner_id, self.stale_after):
            return None
        fence = Fence(request_id, started + self.hold_for)
        with self._lock:
            self._fences[request_id] = fence
        return fence

    def drop(self, request_id: str) -> None:
        """Stop heartbeating a request (its run ended, or it was given back)."""
        with self._lock:
            self._fences.pop(request_id, None)

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
                held = self._store.heartbeat(fence.request_id, self.runner_id)
            except Exception:
                logger.exception("heartbeat failed request=%s; the claim counts until its deadline", fence.request_id)
                continue
            if held:
                fence.renewed(started + self.hold_for)
            else:
                fence.lose("another runner holds the claim now")

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
            threading.Thread(target=self._loop, args=(self.renew, self.every), name="restore-heartbeat", daemon=True),
            threading.Thread(target=self._loop, args=(self.enforce, self.every / 2), name="restore-fence", daemon=True),
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
                logger.exception("restore claim keeper step failed")
