"""One fire of a schedule: claim it, plan the export (chaining incrementals), start it, and say what happened.

A fire is claimed in the store before AWS is asked, so a duplicated fire starts one export; the plan is stored
with the claim, and the ClientToken comes from (schedule id, fire time), so a retried run asks AWS for the very
same export and DynamoDB answers with the one already running instead of billing a second.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.aws.table_info import describe_pitr
from bot.errors import BotError, PreconditionFailed
from bot.exports.chain import CHAIN_LOOKBACK, Coverage, coverage
from bot.exports.start import start_export
from bot.metrics import SCHEDULE_FIRES, SCHEDULE_MISSES
from bot.models import MAX_INCREMENTAL_WINDOW, MIN_INCREMENTAL_WINDOW, ExportJob, ExportType, Requester
from bot.schedules.digest import build_digest
from bot.schedules.fanout import continue_queued, record, run_selection
from bot.schedules.models import ExportPlan, RunKind, RunReport, RunState, Schedule, ScheduleRun, ScheduleType
from bot.schedules.selection import TableSelector, parse_selector
from bot.schedules.service import ScheduleCore, drill_options, find_schedule, schedule_options
from bot.timefmt import iso

logger = logging.getLogger(__name__)

SKIP = "SKIP"


@dataclass(frozen=True)
class RunOutcome:
    """What a fire did: the run (None when the schedule is gone or paused) and its export, if any."""

    run: ScheduleRun | None
    job: ExportJob | None = None
    duplicate: bool = False
    reason: str | None = None


def client_token(schedule_id: str, fire_time: datetime) -> str:
    """The ClientToken of a fire: the same fire always asks for the same export."""
    return hashlib.sha256(f"ddb-backup-bot/schedule/{schedule_id}/{iso(fire_time)}".encode()).hexdigest()[:32]


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
    run = sc.store.claim_run(schedule.id, fire_time, kind, sc.holder, requested_by=requested_by)
    if run is None:
        existing = sc.store.find_run(schedule.id, fire_time)
        job = _job_of(sc, existing)
        logger.info("schedule=%s fire=%s already claimed; not started again", schedule.id, iso(fire_time))
        SCHEDULE_FIRES.labels(kind, "duplicate").inc()
        return RunOutcome(existing, job, duplicate=True)
    if kind == RunKind.CATCH_UP:
        SCHEDULE_MISSES.labels("no_scheduler_running").inc()
    try:
        outcome = _execute(sc, schedule, run)
    except BotError:  # a manual run's requester is answered with the error
        SCHEDULE_FIRES.labels(kind, "failed").inc()
        raise
    SCHEDULE_FIRES.labels(kind, _fire_outcome(outcome)).inc()
    deliver_notes(sc)
    return outcome


def _fire_outcome(outcome: RunOutcome) -> str:
    """The `outcome` label of a fire: started, skipped or failed."""
    if outcome.job is not None:
        return "started"
    state = outcome.run.state if outcome.run is not None else None
    return "skipped" if state == RunState.SKIPPED else "failed"


def run_now(sc: ScheduleCore, schedule_id: str, requester: Requester) -> RunOutcome:
    """`/ddb-schedule run`: one run now (even when paused); failures go back to the requester, not the channel."""
    schedule = find_schedule(sc, schedule_id)
    outcome = run_schedule(sc, schedule.id, sc.core.clock(), RunKind.MANUAL, requested_by=requester.user_id)
    result = f"export {outcome.job.export_id}" if outcome.job else outcome.reason or "nothing started"
    sc.core.store.audit(requester.user_id, "schedule.run", schedule.table_key, {"id": schedule.id}, result)
    return outcome


def _execute(sc: ScheduleCore, schedule: Schedule, run: ScheduleRun) -> RunOutcome:
    notify = run.kind != RunKind.MANUAL
    if schedule.export_type == ScheduleType.DRILL:
        return _execute_drill(sc, schedule, run, notify)
    selector = parse_selector(schedule.table, sc.core.aws.aliases)
    if selector is not None:
        return _execute_selection(sc, schedule, run, selector, notify)
    try:
        plan = run.plan or plan_export(sc, schedule, run.fire_time)
        if run.plan is None:
            sc.store.save_plan(run.id, plan)
    except BotError as error:
        return _failed(sc, run, error.message, error.fix, notify, error)
    except Exception:
        return _crashed(sc, schedule, run, notify)
    if plan.export_type == SKIP:
        sc.store.finish_run(run.id, RunState.SKIPPED, note=notify, error=plan.note)
        if not notify:
            raise PreconditionFailed(plan.note or "Nothing to export yet.")
        return RunOutcome(sc.store.get_run(run.id), reason=plan.note)
    try:
        options = replace(schedule_options(schedule.options), at=plan.at, since=plan.since, until=plan.until)
        requester = Requester(run.requested_by or f"schedule:{schedule.id}"[:64])
        started = start_export(
            sc.core,
            schedule.table,
            options,
            requester,
            client_token=client_token(schedule.id, run.fire_time),
            schedule_id=schedule.id,
            folder_time=run.fire_time,
        )
    except BotError as error:
        return _failed(sc, run, error.message, error.fix, notify, error)
    except Exception:
        return _crashed(sc, schedule, run, notify)
    has_news = run.kind == RunKind.CATCH_UP or (plan.note is not None and notify)
    sc.store.finish_run(run.id, RunState.STARTED, note=has_news, export_arn=started.job.export_arn)
    logger.info(
        "schedule=%s fire=%s kind=%s started export_id=%s",
        schedule.id,
        iso(run.fire_time),
        run.kind,
        started.job.export_id,
    )
    return RunOutcome(sc.store.get_run(run.id), started.job)


def _execute_selection(
    sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, selector: TableSelector, notify: bool
) -> RunOutcome:
    """A many-table fire: one export per matching table, reported in one message (manual runs included)."""
    try:
        outcome = run_selection(sc, schedule, run, selector)
    except BotError as error:
        return _failed(sc, run, error.message, error.fix, notify, error)
    except Exception:
        return _crashed(sc, schedule, run, notify)
    if not (outcome.started or outcome.failed or outcome.queued):
        note = f"No table matches `{selector.key}` now, so nothing was exported."
        sc.store.finish_run(run.id, RunState.SKIPPED, note=True, error=note)
        return RunOutcome(sc.store.get_run(run.id), reason=note)
    record(sc, run, outcome, notify=True)
    logger.info(
        "schedule=%s fire=%s tables started=%d failed=%d queued=%d",
        schedule.id,
        iso(run.fire_time),
        len(outcome.started),
        len(outcome.failed),
        len(outcome.queued),
    )
    job = outcome.started[0][1] if outcome.started else None
    return RunOutcome(sc.store.get_run(run.id), job, reason=None if job else outcome.summary())


def _execute_drill(sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, notify: bool) -> RunOutcome:
    """A drill schedule's fire: queue a restore drill of the table's latest full export; the drill posts its own
    result (to the schedule's channel and the notification channel)."""
    if sc.queue_drill is None:
        return _failed(sc, run, "Restore drills are not available in this bot.", None, notify, BotError("no drills"))
    requester = Requester(run.requested_by or f"schedule:{schedule.id}"[:64], sc.channel_for(schedule))
    try:
        drill = sc.queue_drill(schedule.table, drill_options(schedule.options), requester)
    except BotError as error:
        return _failed(sc, run, error.message, error.fix, notify, error)
    except Exception:
        return _crashed(sc, schedule, run, notify)
    note = f"Restore drill `{drill.id}` of `{drill.spec.table_key}` queued; its result follows here."
    sc.store.finish_run(run.id, RunState.STARTED, note=notify or run.kind == RunKind.CATCH_UP, error=note)
    logger.info("schedule=%s fire=%s queued drill=%s", schedule.id, iso(run.fire_time), drill.id)
    return RunOutcome(sc.store.get_run(run.id), reason=note)


def continue_fanouts(sc: ScheduleCore) -> int:
    """Start what many-table fires left queued, where there is room now; returns how many exports started."""
    started = 0
    for schedule in sc.store.all():
        selector = parse_selector(schedule.table, sc.core.aws.aliases)
        run = sc.store.last_runs([schedule.id]).get(schedule.id) if selector else None
        if selector is None or run is None or run.state != RunState.STARTED:
            continue
        try:
            outcome = continue_queued(sc, schedule, run, selector)
        except BotError as error:
            logger.warning("schedule=%s: queued exports not started yet: %s", schedule.id, error.message)
            continue
        if outcome is not None and (outcome.started or outcome.failed):
            record(sc, run, outcome, notify=True, earlier=run.error)
            started += len(outcome.started)
    return started


def _failed(
    sc: ScheduleCore, run: ScheduleRun, message: str, fix: str | None, notify: bool, error: Exception
) -> RunOutcome:
    """Record why nothing was exported; a manual run's requester is answered with the error instead."""
    sc.store.finish_run(run.id, RunState.FAILED, note=notify, error=message, fix=fix)
    if not notify:
        raise error
    return RunOutcome(sc.store.get_run(run.id), reason=message)


def _crashed(sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, notify: bool) -> RunOutcome:
    reference = uuid.uuid4().hex[:8]
    logger.exception("schedule=%s fire=%s failed reference=%s", schedule.id, iso(run.fire_time), reference)
    message = f"Something went wrong on my side (reference {reference}); no export was started by this run."
    return _failed(sc, run, message, None, notify, BotError(message))


def plan_export(sc: ScheduleCore, schedule: Schedule, fire_time: datetime) -> ExportPlan:
    """Full, or incremental from where the chain ends to the fire (or PITR's latest time), or why not."""
    if schedule.export_type == ScheduleType.FULL:
        return ExportPlan(ExportType.FULL)
    ref, place = sc.core.table(schedule.table)
    window = describe_pitr(sc.core.aws.dynamodb(place), ref, place)
    if not window.enabled:
        return ExportPlan(ExportType.FULL)  # the export's pre-flight says PITR is off and how to turn it on
    until = min(fire_time, window.latest) if window.latest else fire_time
    at = until if window.contains(until) else None
    chain = coverage(sc.core.store.schedule_exports(schedule.id, CHAIN_LOOKBACK))
    chain_end = chain.end
    if chain_end is None:
        note = "First run of this incremental schedule: a full export starts the chain; later runs export changes."
        return ExportPlan(ExportType.FULL, at=at, note=note)
    if window.earliest is not None and window.earliest > chain_end:
        return ExportPlan(
            ExportType.FULL,
            at=at,
            note=(
                f"The incremental chain is broken: the table's PITR window now starts at {iso(window.earliest)}, "
                f"after the end of the last export ({iso(chain_end)}), so PITR was turned off and on again. "
                "A full export starts a new chain."
            ),
        )
    if until - chain_end > MAX_INCREMENTAL_WINDOW:
        return ExportPlan(
            ExportType.FULL,
            at=at,
            note=(
                f"The incremental chain is broken: the last export ends at {iso(chain_end)}, more than 24 hours "
                f"before {iso(until)}, and one incremental export covers at most 24 hours. "
                "A full export starts a new chain."
            ),
        )
    if until - chain_end < MIN_INCREMENTAL_WINDOW:
        return ExportPlan(
            SKIP,
            note=(
                f"Nothing exported: the chain already covers up to {iso(chain_end)}, and an incremental export "
                f"needs at least 15 minutes (next possible after {iso(chain_end + MIN_INCREMENTAL_WINDOW)})."
            ),
        )
    return ExportPlan(ExportType.INCREMENTAL, since=chain_end, until=until, note=_healing_note(chain))


def _healing_note(chain: Coverage) -> str | None:
    """Why this window starts earlier than the last export's end: an export of a later window failed."""
    if not chain.failed_after_end or chain.end is None:
        return None
    start, stop = chain.failed_after_end[0]
    return (
        f"The export of {iso(start)}–{iso(stop)} failed, so this run exports again from {iso(chain.end)}: "
        "the chain has no gap."
    )


def missed_fire(sc: ScheduleCore, schedule: Schedule, now: datetime) -> datetime | None:
    """The latest fire missed while no replica ran the scheduler (coalesced to one), or None."""
    if schedule.paused:
        return None
    last = sc.store.last_fire(schedule.id)
    baseline = max(last, schedule.active_since) if last else schedule.active_since
    expected = sc.calendar.next_fire(schedule.cron, schedule.timezone, baseline)
    if expected is None or expected > now:
        return None
    return sc.calendar.latest_fire(schedule.cron, schedule.timezone, now)


def deliver_notes(sc: ScheduleCore) -> int:
    """Post every run message not posted yet (catch-ups, broken chains, failures, digests); returns how many."""
    delivered = 0
    for run in sc.store.pending_notes():
        claim = sc.store.claim_note(run.id)
        if claim is None:
            continue
        ok = False
        try:
            if run.kind == RunKind.DIGEST:
                channel = sc.core.notify_channel
                ok = True if channel is None else sc.notifier.digest(build_digest(sc, run.fire_time, run.id), channel)
            else:
                schedule = sc.store.get(run.schedule_id)
                channel = sc.channel_for(schedule)
                if schedule is None or channel is None:
                    ok = True  # removed since, or nowhere to say it: nothing to post
                else:
                    oncall = sc.oncall if run.state == RunState.FAILED or run.late else None
                    ok = sc.notifier.run_report(RunReport(schedule, run, _job_of(sc, run), oncall), channel)
        except Exception:
            logger.exception("schedules: could not post the message of run id=%s", run.id)
        finally:
            if not sc.store.settle_note(run.id, claim, delivered=ok):
                logger.warning("schedules: the message of run id=%s was taken over by another poster", run.id)
        delivered += ok
    return delivered


def report_late_runs(sc: ScheduleCore) -> int:
    """Queue a message for each export still running `expected_hours` after its fire; returns how many."""
    now = sc.core.clock()
    late = [
        run
        for run, hours in sc.store.running_with_deadline()
        if run.fire_time + timedelta(hours=hours) < now and sc.store.mark_late(run.id)
    ]
    SCHEDULE_MISSES.labels("late").inc(len(late))
    for run in late:
        logger.warning(
            "schedule=%s fire=%s: export still running past expected_hours", run.schedule_id, iso(run.fire_time)
        )
    return len(late)


def _job_of(sc: ScheduleCore, run: ScheduleRun | None) -> ExportJob | None:
    if run is None or run.export_arn is None:
        return None
    return sc.core.store.get_export(run.export_arn)
