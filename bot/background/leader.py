"""Exactly one replica runs the gated background jobs (the scheduler, the export tracker): the lease holder.

`Leadership` keeps this replica's side of the lease: it takes or renews it (every lease/3) and says whether it is
held, counted on its monotonic clock from before the call that took or renewed it, for two thirds of the lease
only: a holder that cannot renew gives up at least one renewal interval (lease/3) before the lease expires in the
database, so its gate, which looks every lease/3, has stopped the jobs before another replica can take the lease.
`LeaderGate` starts the jobs when leadership is gained and stops them as soon as it is lost. The others try every
lease/3, so when the holder dies another replica takes over within lease + lease/3, under two lease periods.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

from bot.background.leases import Lease, LeaseStore
from bot.metrics import LEADER

logger = logging.getLogger(__name__)
LEASE_NAME = "background"
HOLD_FRACTION = 2 / 3  # of the lease, counted from before the last successful take or renewal


class GatedJob(Protocol):
    """A background job that can be started and stopped repeatedly as leadership comes and goes."""

    def start(self) -> None:
        """Start in a daemon thread."""
        ...

    def stop(self, timeout: float = 10.0) -> None:
        """Stop and wait up to `timeout` seconds."""
        ...


class Leadership:
    """This replica's hold on a named lease; jobs read `leading` before acting, the gate moves it."""

    def __init__(
        self,
        leases: LeaseStore,
        *,
        holder: str,
        lease_seconds: float,
        name: str = LEASE_NAME,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.holder = holder
        self.name = name
        self.lease_seconds = lease_seconds
        self._leases = leases
        self._clock = clock
        self._lease: Lease | None = None
        self._deadline = 0.0

    @property
    def hold_seconds(self) -> float:
        """How long after a successful take or renewal this replica counts itself the holder (2/3 of the lease)."""
        return self.lease_seconds * HOLD_FRACTION

    @property
    def leading(self) -> bool:
        """True while this replica holds an unexpired lease by its own clock."""
        return self._lease is not None and self._clock() < self._deadline

    @property
    def held(self) -> bool:
        """True from taking the lease until it is lost, released or found run out (even if it ran out just now)."""
        return self._lease is not None

    def is_leading(self) -> bool:
        """`leading`, as a callable for jobs that check it before each action."""
        return self.leading

    def try_hold(self) -> bool | None:
        """Take or renew the lease once: True when held, False when another replica has it, None when the database
        did not answer (the lease counts until its deadline)."""
        started = self._clock()
        ttl = timedelta(seconds=self.lease_seconds)
        try:
            if self._lease is None:
                lease = self._leases.acquire(self.name, self.holder, ttl)
            else:
                lease = self._leases.renew(self._lease, ttl)
        except Exception:
            logger.exception("lease.database_unanswered", extra={"lease": self.name})
            return None
        if lease is None:
            return False
        self._lease, self._deadline = lease, started + self.hold_seconds
        return True

    def let_go(self) -> Lease | None:
        """Stop leading at once (lost, run out, or shutting down); returns the lease, for `release`."""
        lease, self._lease = self._lease, None
        return lease

    def release(self, lease: Lease | None) -> None:
        """Give a lease let go of back, so another replica takes over at once; it expires by itself if this fails."""
        if lease is None:
            return
        try:
            self._leases.release(lease)
        except Exception:
            logger.exception("lease.release_failed", extra={"lease": self.name})


class LeaderGate:
    """A background job that runs `jobs` only while `leadership` holds the lease."""

    def __init__(self, leadership: Leadership, jobs: Sequence[GatedJob]) -> None:
        self.leadership = leadership
        self.jobs = list(jobs)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        """True while this replica holds an unexpired lease by its own clock."""
        return self.leadership.leading

    @property
    def holder(self) -> str:
        """Who this replica is in the lease table."""
        return self.leadership.holder

    def start(self) -> None:
        """Try for the lease now, then every lease/3 in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{self.leadership.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the jobs and hand the lease back so another replica takes over at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            self._step_down("shutting down", timeout, release=True)

    def tick(self) -> None:
        """Take or renew the lease once, starting or stopping the jobs accordingly."""
        with self._lock:
            if self._stop.is_set():
                return
            was_held = self.leadership.held
            held = self.leadership.try_hold()
            if held is None:
                if was_held and not self.leadership.leading:
                    self._step_down("lease ran out while the database did not answer")
                return
            if not held:
                if was_held:
                    self._step_down("lease was taken over")
                return
            if not was_held:
                self._start_jobs()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            if self.leadership.held and not self.leadership.leading:
                with self._lock:
                    self._step_down("lease ran out before it could be renewed")
            self._stop.wait(self.leadership.lease_seconds / 3)

    def _start_jobs(self) -> None:
        LEADER.set(1)
        logger.info(
            "lease.jobs_starting",
            extra={"lease": self.leadership.name, "holder": self.leadership.holder, "jobs": len(self.jobs)},
        )
        for job in self.jobs:
            try:
                job.start()
            except Exception:
                logger.exception("lease.job_start_failed", extra={"lease": self.leadership.name})
                self._step_down("a job failed to start", release=True)
                return

    def _step_down(self, reason: str, timeout: float = 5.0, *, release: bool = False) -> None:
        if not self.leadership.held:
            return
        lease = self.leadership.let_go()  # jobs checking `leading` see False before they are stopped
        LEADER.set(0)
        level = logging.INFO if self._stop.is_set() else logging.WARNING
        logger.log(
            level,
            "lease.stepping_down",
            extra={"lease": self.leadership.name, "holder": self.leadership.holder, "reason": reason},
        )
        for job in reversed(self.jobs):
            try:
                job.stop(timeout)
            except Exception:
                logger.exception("lease.job_stop_failed", extra={"lease": self.leadership.name})
        if release:
            self.leadership.release(lease)
