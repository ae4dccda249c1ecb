"""The scheduler: an APScheduler BackgroundScheduler rebuilt from the store each time this replica leads.

Its job store is in memory, never APScheduler's pickled one: the store's schedules table is the truth, re-read at
start (with one catch-up run per schedule that missed fires meanwhile), when this replica changes a schedule, and
every few seconds for changes made through other replicas.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.schedules.runs import missed_fire
from bot.schedules.service import ScheduleCore
from bot.timefmt import iso
from scheduler.cron import cron_trigger
from scheduler.jobs import catch_up, fire_digest, fire_schedule, housekeeping

logger = logging.getLogger(__name__)
JOB_PREFIX = "schedule:"


class ScheduleRunner:
    """A Background job (start/stop, restartable) running every schedule's cron, the digest and housekeeping.

    `leading` says whether this replica still holds the lease; every job checks it before acting, so a lease that
    ran out stops the fires even before the leader gate has stopped the scheduler.
    """

    def __init__(
        self,
        sc: ScheduleCore,
        *,
        leading: Callable[[], bool] = lambda: True,
        digest_cron: str | None = None,
        digest_timezone: str = "UTC",
        sync_seconds: float = 5.0,
        misfire_grace_seconds: int = 3600,
        workers: int = 10,
    ) -> None:
        self.sc = sc
        self._is_leader = leading
        self._digest = (digest_cron, digest_timezone) if digest_cron else None
        self._sync_seconds = sync_seconds
        self._grace = misfire_grace_seconds
        self._workers = workers
        self._lock = threading.RLock()
        self._scheduler: Any = None
        self._versions: dict[str, int] = {}

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._scheduler is not None

    def start(self) -> None:
        """Build the scheduler from the store, queue catch-up runs, and start it."""
        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(self._workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": self._grace},
        )
        now = datetime.now(UTC)
        with self._lock:
            self._scheduler, self._versions = scheduler, {}
            self._sync(now, catch_up_missed=True)
            if self._digest is not None:
                cron, timezone = self._digest
                scheduler.add_job(
                    fire_digest,
                    trigger=cron_trigger(cron, timezone),
                    args=(self.sc, self._leading, cron, timezone),
                    id="digest",
                    name="daily digest",
                    next_run_time=self.sc.calendar.next_fire(cron, timezone, now),
                )
            scheduler.add_job(
                housekeeping,
                trigger=IntervalTrigger(seconds=self._sync_seconds, timezone=UTC),
                args=(self.sc, self._leading, self.resync),
                id="housekeeping",
                name="resync schedules, post pending messages",
                next_run_time=now,
            )
            scheduler.start()
        if self.resync not in self.sc.listeners:
            self.sc.listeners.append(self.resync)
        logger.info("scheduler.started", extra={"schedules": len(self._versions)})

    def stop(self, timeout: float = 10.0) -> None:
        """Stop firing; a run already under way finishes in its thread (its fire is claimed in the store)."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
            self._versions = {}
        if self.resync in self.sc.listeners:
            self.sc.listeners.remove(self.resync)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            logger.info("scheduler.stopped")

    def resync(self) -> None:
        """Re-read the schedules and add, replace or drop jobs whose schedule changed."""
        with self._lock:
            if self._scheduler is not None:
                self._sync(datetime.now(UTC), catch_up_missed=False)

    def next_run_times(self) -> dict[str, datetime | None]:
        """Schedule id → when APScheduler will fire it next (for tests and diagnostics)."""
        with self._lock:
            if self._scheduler is None:
                return {}
            jobs = self._scheduler.get_jobs()
        return {job.id.removeprefix(JOB_PREFIX): job.next_run_time for job in jobs if job.id.startswith(JOB_PREFIX)}

    def _leading(self) -> bool:
        return self.running and self._is_leader()

    def _sync(self, now: datetime, *, catch_up_missed: bool) -> None:
        scheduler = self._scheduler
        current = {schedule.id: schedule for schedule in self.sc.store.all()}
        for schedule_id in list(self._versions):
            schedule = current.get(schedule_id)
            if schedule is None or schedule.paused:
                self._drop(schedule_id)
        for schedule in current.values():
            if schedule.paused or self._versions.get(schedule.id) == schedule.version:
                continue
            try:
                trigger = cron_trigger(schedule.cron, schedule.timezone)
            except Exception:
                logger.exception("scheduler.cron_unreadable", extra={"schedule_id": schedule.id})
                continue
            scheduler.add_job(
                fire_schedule,
                trigger=trigger,
                args=(self.sc, self._leading, schedule.id),
                id=JOB_PREFIX + schedule.id,
                name=f"export {schedule.table_key}",
                next_run_time=self.sc.calendar.next_fire(schedule.cron, schedule.timezone, now),
                replace_existing=True,
            )
            self._versions[schedule.id] = schedule.version
            missed = missed_fire(self.sc, schedule, now) if catch_up_missed else None
            if missed is not None:
                logger.info("scheduler.catching_up", extra={"schedule_id": schedule.id, "fire_time": iso(missed)})
                scheduler.add_job(
                    catch_up,
                    trigger=DateTrigger(run_date=now, timezone=UTC),
                    args=(self.sc, self._leading, schedule.id, missed),
                    id=f"catch-up:{schedule.id}",
                    name=f"catch up {schedule.table_key}",
                    replace_existing=True,
                )

    def _drop(self, schedule_id: str) -> None:
        self._versions.pop(schedule_id, None)
        try:
            self._scheduler.remove_job(JOB_PREFIX + schedule_id)
        except Exception:
            logger.debug("scheduler.no_job_to_remove", extra={"schedule_id": schedule_id})
