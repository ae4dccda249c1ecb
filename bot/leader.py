"""Exactly one replica runs the gated background jobs (the scheduler, the export tracker): the lease holder.

The holder renews every lease/3 and stops its jobs as soon as a renewal fails or its own lease time runs out,
counted on its monotonic clock from before the call that took or renewed the lease. The others try every lease/3,
so when the holder dies another replica takes over within lease + lease/3, under two lease periods.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

from bot.leases import Lease, LeaseStore

logger = logging.getLogger(__name__)
LEASE_NAME = "background"


class GatedJob(Protocol):
    """A background job that can be started and stopped repeatedly as leadership comes and goes."""

    def start(self) -> None:
        """Start in a daemon thread."""
        ...

    def stop(self, timeout: float = 10.0) -> None:
        """Stop and wait up to `timeout` seconds."""
        ...


class LeaderGate:
    """A background job that runs `jobs` only while this replica holds the lease."""

    def __init__(
        self,
        leases: LeaseStore,
        jobs: Sequence[GatedJob],
        *,
        holder: str,
        lease_seconds: float,
        name: str = LEASE_NAME,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jobs = list(jobs)
        self.holder = holder
        self.name = name
        self.lease_seconds = lease_seconds
        self._leases = leases
        self._clock = clock
        self._lease: Lease | None = None
        self._deadline = 0.0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        """True while this replica holds an unexpired lease by its own clock."""
        return self._lease is not None and self._clock() < self._deadline

    def start(self) -> None:
        """Try for the lease now, then every lease/3 in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the jobs and hand the lease back so another replica takes over at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            lease = self._lease
            self._step_down("shutting down", timeout)
            if lease is not None:
                try:
                    self._leases.release(lease)
                except Exception:
                    logger.exception("lease=%s could not be released; it expires by itself", self.name)

    def tick(self) -> None:
        """Take or renew the lease once, starting or stopping the jobs accordingly."""
        with self._lock:
            if self._stop.is_set():
                return
            started = self._clock()
            ttl = timedelta(seconds=self.lease_seconds)
            try:
                if self._lease is None:
                    lease = self._leases.acquire(self.name, self.holder, ttl)
                else:
                    lease = self._leases.renew(self._lease, ttl)
            except Exception:
                logger.exception("lease=%s: the database did not answer", self.name)
                if self._lease is not None and self._clock() >= self._deadline:
                    self._step_down("lease ran out while the database did not answer")
                return
            if lease is None:
                if self._lease is not None:
                    self._step_down("lease was taken over")
                return
            was_leading = self._lease is not None
            self._lease, self._deadline = lease, started + self.lease_seconds
            if not was_leading:
                self._start_jobs()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            if self._lease is not None and not self.leading:
                with self._lock:
                    self._step_down("lease ran out before it could be renewed")
            self._stop.wait(self.lease_seconds / 3)

    def _start_jobs(self) -> None:
        logger.info("lease=%s held by holder=%s: starting %d background jobs", self.name, self.holder, len(self.jobs))
        for job in self.jobs:
            try:
                job.start()
            except Exception:
                logger.exception("lease=%s: a background job failed to start; stepping down", self.name)
                lease = self._lease
                self._step_down("a job failed to start")
                if lease is not None:
                    try:
                        self._leases.release(lease)
                    except Exception:
                        logger.exception("lease=%s could not be released; it expires by itself", self.name)
                return

    def _step_down(self, reason: str, timeout: float = 5.0) -> None:
        if self._lease is None:
            return
        self._lease = None
        level = logging.INFO if self._stop.is_set() else logging.WARNING
        logger.log(level, "lease=%s holder=%s stepping down: %s", self.name, self.holder, reason)
        for job in reversed(self.jobs):
            try:
                job.stop(timeout)
            except Exception:
                logger.exception("lease=%s: a background job did not stop cleanly", self.name)
