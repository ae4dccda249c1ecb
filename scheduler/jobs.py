"""What APScheduler runs: plain functions that turn "it is time" into a call of a use case.

APScheduler 3 does not tell a job its scheduled time, so a fire's time is recomputed from the cron as the latest
fire at or before now: deterministic, so every replica and every retry names the same fire (and ClientToken).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.schedules.models import RunKind
from bot.schedules.runs import report_late_runs, run_digest, run_schedule
from bot.schedules.service import ScheduleCore
from bot.timefmt import iso

logger = logging.getLogger(__name__)


def fire_schedule(sc: ScheduleCore, leading: Callable[[], bool], schedule_id: str) -> None:
    """A cron fire of one schedule."""
    schedule = sc.store.get(schedule_id)
    if schedule is None:
        return
    fire_time = sc.calendar.latest_fire(schedule.cron, schedule.timezone, sc.core.clock())
    if fire_time is None:
        return
    if not leading():
        logger.warning("schedule.fire_left_not_leader", extra={"schedule_id": schedule_id, "fire_time": iso(fire_time)})
        return
    outcome = run_schedule(sc, schedule_id, fire_time, RunKind.SCHEDULED)
    if outcome.reason:
        logger.info(
            "schedule.fire_not_started",
            extra={"schedule_id": schedule_id, "fire_time": iso(fire_time), "reason": outcome.reason},
        )


def catch_up(sc: ScheduleCore, leading: Callable[[], bool], schedule_id: str, fire_time: datetime) -> None:
    """The one run of a schedule missed while no replica ran the scheduler."""
    if leading():
        run_schedule(sc, schedule_id, fire_time, RunKind.CATCH_UP)


def fire_digest(sc: ScheduleCore, leading: Callable[[], bool], cron: str, timezone: str) -> None:
    """The daily digest."""
    fire_time = sc.calendar.latest_fire(cron, timezone, sc.core.clock())
    if fire_time is not None and leading():
        run_digest(sc, fire_time)


def housekeeping(sc: ScheduleCore, leading: Callable[[], bool], resync: Callable[[], None]) -> None:
    """Pick up schedule changes made through other replicas and flag runs past `expected_hours` (their messages,
    like every other, are notes the work runner posts)."""
    if not leading():
        return
    resync()
    report_late_runs(sc)
