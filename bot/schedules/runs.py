"""Fires of schedules as the scheduler and `/ddb-schedule run` ask for them, what catch-up makes up, runs running
late, and the messages runs owe (posted as notes, bot.background.notes).

A fire is claimed work (bot.schedules.fires): it runs in the caller's thread under its claim, and if that thread
dies, any replica's work runner takes it over; a duplicated fire (two replicas, a retried job, a catch-up racing
the cron) is one piece of work and starts one export.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from bot.background.notes import Delivery, NoteStamp, delivered
from bot.errors import BotError, PreconditionFailed
from bot.metrics import SCHEDULE_FIRES, SCHEDULE_MISSES
from bot.models import ExportJob, Requester
from bot.schedules.digest import build_digest
from bot.schedules.fanout import tables_not_done
from bot.schedules.fires import FIRE, Fire, FireWork, digest_fire
from bot.schedules.models import RunKind, RunReport, RunState, Schedule, ScheduleRun
from bot.schedules.planning import client_token
from bot.schedules.service import ScheduleCore, find_schedule
from bot.timefmt import iso

logger = logging.getLogger(__name__)
TOPIC = "run"  # a run's note: `run:<id>`


@dataclass(frozen=True)
class RunOutcome:
    """What a fire did: the run (None when the schedule is gone or paused) and its export, if any."""

    run: ScheduleRun | None
    job: ExportJob | None = None
    duplicate: bool = False
    reason: str | None = None


def run_schedule(
    sc: ScheduleCore,
    schedule_id: str,
    fire_time: datetime,
    kind: str = RunKind.SCHEDULED,
    *,
    requested_by: str | None = None,
) -> RunOutcome:
    """Run one fire of a schedule once, whoever else tries the same fire."""
    fire_time = fire_time.replace(microsecond=0)
    schedule = sc.store.get(schedule_id)
    if schedule is None:
        return RunOutcome(None, reason=f"schedule {schedule_id} no longer exists")
    if schedule.paused and kind != RunKind.MANUAL:
        return RunOutcome(None, reason=f"schedule {schedule_id} is paused")
    fire = Fire(schedule.id, fire_time, RunKind(kind), requested_by)
    ran = sc.desk.run_now(FIRE, fire.key, FireWork(sc), payload=fire.payload())
    run = sc.store.find_run(schedule.id, fire_time)
    job = _job_of(sc, run)
    if ran is None:
        logger.info("schedule.fire_already_claimed", extra={"schedule_id": schedule.id, "fire_time": iso(fire_time)})
        SCHEDULE_FIRES.labels(kind, "duplicate").inc()
        return RunOutcome(run, job, duplicate=True)
    return RunOutcome(run, job, reason=None if job else _reason(run, ran))


UNFINISHED_HERE = (
    "it could not finish just now and is tried again in the background (or by another replica); "
    "its result is posted to the schedule's channel"
)


def _reason(run: ScheduleRun | None, ran: str) -> str | None:
    """Why no export was started: the run's own error or plan note, else, when the fire's work did not end here
    (it failed and waits for its retry, or its claim passed to another replica), that it is still on its way; never
    "nothing to do" for a fire that is not over."""
    said = None if run is None else run.error or (run.plan.note if run.plan else None)
    if said is None and ran not in ("done", "given_up"):
        return UNFINISHED_HERE
    return said


def run_digest(sc: ScheduleCore, fire_time: datetime) -> bool:
    """The digest of one fire, once whichever replica fires it (its note posts it); False when it was already
    made or there is no DDBBOT_NOTIFY_CHANNEL."""
    if sc.core.notify_channel is None:
        logger.info("digest.skipped_no_channel")
        return False
    fire = digest_fire(fire_time.replace(microsecond=0))
    return sc.desk.run_now(FIRE, fire.key, FireWork(sc), payload=fire.payload()) == "done"


def run_now(sc: ScheduleCore, schedule_id: str, requester: Requester) -> RunOutcome:
    """`/ddb-schedule run`: one run now (even when paused); failures go back to the requester, not the channel."""
    schedule = find_schedule(sc, schedule_id)
    fire_time = sc.core.clock().replace(microsecond=0)
    outcome = run_schedule(sc, schedule.id, fire_time, RunKind.MANUAL, requested_by=requester.user_id)
    if outcome.duplicate and outcome.job is None:
        outcome = _held_elsewhere(sc, schedule.id, fire_time, requester.user_id)
    result = f"export {outcome.job.export_id}" if outcome.job else outcome.reason or "nothing started"
    sc.core.store.audit(requester.user_id, "schedule.run", schedule.table_key, {"id": schedule.id}, result)
    run = outcome.run
    if run is not None and not outcome.duplicate and run.kind == RunKind.MANUAL:
        if run.state == RunState.FAILED:
            raise BotError(run.error or "The run failed.", run.fix)
        if run.state == RunState.SKIPPED:
            raise PreconditionFailed(run.error or "Nothing to export yet.")
    return outcome


HELD_ELSEWHERE_WAIT = 15.0  # seconds: the holder records the fire's export within moments


def _held_elsewhere(sc: ScheduleCore, schedule_id: str, fire_time: datetime, user_id: str) -> RunOutcome:
    """The fire was taken between its queueing and its run here (this replica's background runner polls the same
    queue, or another replica's): wait for its holder to finish it, so the requester hears how it went rather than
    "nothing to do" (seen under load); still unfinished, the answer says where its result will be."""
    deadline = time.monotonic() + HELD_ELSEWHERE_WAIT
    while True:
        run = sc.store.find_run(schedule_id, fire_time)
        if run is not None and run.state != RunState.CLAIMED:
            job = _job_of(sc, run)
            mine = run.requested_by == user_id
            return RunOutcome(run, job, duplicate=not mine, reason=None if job else _reason(run, "done"))
        if time.monotonic() >= deadline:
            return RunOutcome(run, None, reason=UNFINISHED_HERE)
        time.sleep(0.1)


def missed_fire(sc: ScheduleCore, schedule: Schedule, now: datetime) -> datetime | None:
    """The latest fire missed while no replica ran the scheduler (coalesced to one), or None. Only finished runs
    count as handled: a fire still claimed is taken over by the work runner, not forgotten."""
    if schedule.paused:
        return None
    last = sc.store.last_fire(schedule.id)
    baseline = max(last, schedule.active_since) if last else schedule.active_since
    expected = sc.calendar.next_fire(schedule.cron, schedule.timezone, baseline)
    if expected is None or expected > now:
        return None
    return sc.calendar.latest_fire(schedule.cron, schedule.timezone, now)


def report_late_runs(sc: ScheduleCore) -> int:
    """Owe a message for each export still running `expected_hours` after its fire; returns how many."""
    now = sc.core.clock()
    late = [
        run
        for run, hours in sc.store.running_with_deadline()
        if run.fire_time + timedelta(hours=hours) < now and sc.store.mark_late(run.id)
    ]
    SCHEDULE_MISSES.labels("late").inc(len(late))
    for run in late:
        logger.warning(
            "schedule.export_overdue", extra={"schedule_id": run.schedule_id, "fire_time": iso(run.fire_time)}
        )
    return len(late)


class RunReports:
    """The `run` notes' poster: a run's message (catch-ups, broken chains, failures with on-call, lateness, a
    many-table fire's tables, on-call told while one is not exported) to its schedule's channel, and the digest to
    the notification channel."""

    def __init__(self, sc: ScheduleCore) -> None:
        self._sc = sc

    def targets(self, subject: str) -> list[str]:
        """The schedule's channel (the notification channel for the digest); none when there is nowhere to say it."""
        sc = self._sc
        run = sc.store.get_run(int(subject))
        if run is None:
            return []
        if run.kind == RunKind.DIGEST:
            return [sc.core.notify_channel] if sc.core.notify_channel else []
        schedule = sc.store.get(run.schedule_id)
        channel = sc.channel_for(schedule)
        return [channel] if schedule is not None and channel else []

    def scheduled(self, subject: str) -> bool:
        """Every run is a schedule's: on-call is told when its message does not reach its channel."""
        return True

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        """Post the message of run `subject`."""
        sc = self._sc
        run = sc.store.get_run(int(subject))
        if run is None:
            return delivered()
        if run.kind == RunKind.DIGEST:
            return sc.notifier.digest(build_digest(sc, run.fire_time, run.id), stamp)
        schedule = sc.store.get(run.schedule_id)
        if schedule is None:
            return delivered()  # removed since: nothing to say
        failed = run.state == RunState.FAILED or run.late or tables_not_done(sc, run)
        oncall = sc.oncall if failed else None
        return sc.notifier.run_report(RunReport(schedule, run, _job_of(sc, run), oncall), stamp)

    def posted(self, subject: str, connection: Connection) -> None:
        """Mark the run's message posted."""
        self._sc.store.note_posted(connection, subject)


def _job_of(sc: ScheduleCore, run: ScheduleRun | None) -> ExportJob | None:
    if run is None or run.export_arn is None:
        return None
    return sc.core.store.get_export(run.export_arn)


__all__ = ["RunOutcome", "RunReports", "client_token", "missed_fire", "report_late_runs", "run_now", "run_schedule"]
