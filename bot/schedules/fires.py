"""A schedule's fire as claimed work (kind `fire`): the run row is opened inside the claim, the plan stored before
AWS is asked, the export started with the fire's ClientToken, and the run's end committed with the claim settled.

A replica that dies anywhere in between leaves a stale claim: whichever replica takes it over finds the run and
its plan as they were left and asks AWS for the very same export (DynamoDB answers a repeated ClientToken with the
export already started), so a fire makes exactly one export; a fire taken DDBBOT_WORK_MAX_ATTEMPTS times is
recorded failed and reported with on-call mentioned.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.background.claims import Claim, ClaimLost, WorkState
from bot.background.fanout import FanOutPass, defer_to_next
from bot.background.fence import Fence
from bot.background.targets import TargetState
from bot.errors import BotError
from bot.exports.start import start_export
from bot.logs import log_context
from bot.metrics import SCHEDULE_FIRES, SCHEDULE_MISSES
from bot.models import Requester
from bot.schedules.fanout import FANOUT, expired, lay_out, lay_out_queued, record, start_tables
from bot.schedules.models import DIGEST_ID, RunKind, RunState, Schedule, ScheduleRun, ScheduleType
from bot.schedules.planning import SKIP, client_token, plan_export
from bot.schedules.selection import TableSelector, parse_selector
from bot.schedules.service import ScheduleCore, drill_options, schedule_options
from bot.timefmt import iso

logger = logging.getLogger(__name__)
FIRE = "fire"


@dataclass(frozen=True)
class Fire:
    """What a fire's work item carries: enough to open its run on whichever replica takes it."""

    schedule_id: str
    fire_time: datetime
    kind: RunKind
    requested_by: str | None = None

    @property
    def key(self) -> str:
        """The work key: one per schedule and fire time, so a duplicated fire is one piece of work."""
        return f"{self.schedule_id}@{iso(self.fire_time)}"

    def payload(self) -> dict[str, Any]:
        """As stored with the work item."""
        return {
            "schedule_id": self.schedule_id,
            "fire_time": self.fire_time.isoformat(),
            "run_kind": str(self.kind),
            "requested_by": self.requested_by,
        }

    @classmethod
    def of(cls, payload: dict[str, Any]) -> Fire:
        """From a work item's payload."""
        return cls(
            payload["schedule_id"],
            datetime.fromisoformat(payload["fire_time"]),
            RunKind(payload["run_kind"]),
            payload.get("requested_by"),
        )


class FireWork:
    """The `fire` kind: run one fire of a schedule (or the digest) to its recorded end."""

    def __init__(self, sc: ScheduleCore) -> None:
        self._sc = sc

    def run(self, item: Claim, fence: Fence) -> None:
        """Open the run and take it to started, skipped or failed (each owes its note as the run says)."""
        fire = Fire.of(item.payload)
        with log_context(schedule_id=fire.schedule_id, fire_time=iso(fire.fire_time), kind=fire.kind):
            if fire.kind == RunKind.DIGEST:
                self._digest(fire, fence)
                return
            schedule = self._sc.store.get(fire.schedule_id)
            if schedule is None or (schedule.paused and fire.kind != RunKind.MANUAL):
                logger.info("schedule.fire_skipped_gone_or_paused", extra={"schedule_id": fire.schedule_id})
                return
            run = self._open(fire, fence)
            if run.state != RunState.CLAIMED:
                return  # an earlier holder finished it
            if fire.kind == RunKind.CATCH_UP:
                SCHEDULE_MISSES.labels("no_scheduler_running").inc()
            outcome = execute(self._sc, schedule, run, fence)
            SCHEDULE_FIRES.labels(fire.kind, outcome).inc()

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """The fire is recorded failed, its message names what happened and mentions on-call."""
        fire = Fire.of(item.payload)
        schedule = self._sc.store.get(fire.schedule_id)
        if fire.kind == RunKind.DIGEST or schedule is None:
            logger.error("schedule.fire_given_up", extra={"fire": item.key, "reason": reason})
            with fence.finishing(WorkState.GIVEN_UP, reason):
                return
        run = self._open(fire, fence)
        message = (
            f"The bot gave up on this run: {reason}. No export was recorded for it; look for one in the bucket, "
            f"then run it again with `/ddb-schedule run {fire.schedule_id}` if none is there."
        )
        with fence.finishing(WorkState.GIVEN_UP, reason) as connection:
            if run.state == RunState.CLAIMED:
                self._sc.store.finish_run(run.id, RunState.FAILED, note=True, connection=connection, error=message)
                self._sc.targets.give_up_rest(
                    connection, FANOUT, str(run.id), f"The bot gave up on this run: {reason}."
                )
        SCHEDULE_FIRES.labels(fire.kind, "failed").inc()

    def _open(self, fire: Fire, fence: Fence) -> ScheduleRun:
        with fence.fenced() as connection:
            return self._sc.store.open_run(
                connection,
                fire.schedule_id,
                fire.fire_time,
                fire.kind,
                fence.claim.holder,
                requested_by=fire.requested_by,
            )

    def _digest(self, fire: Fire, fence: Fence) -> None:
        """The digest of one fire: its run, owing the message that bot.schedules.runs builds and posts."""
        if self._sc.core.notify_channel is None:
            logger.info("digest.skipped_no_channel")
            return
        run = self._open(fire, fence)
        with fence.finishing() as connection:
            if run.state == RunState.CLAIMED:
                self._sc.store.finish_run(run.id, RunState.DONE, note=True, connection=connection)


def digest_fire(fire_time: datetime) -> Fire:
    """The digest's fire at `fire_time`."""
    return Fire(DIGEST_ID, fire_time, RunKind.DIGEST)


def execute(sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, fence: Fence) -> str:
    """Plan, start and record one fire; the `outcome` label of SCHEDULE_FIRES (started, skipped or failed)."""
    notify = run.kind != RunKind.MANUAL  # a manual run's requester is answered instead (bot.schedules.runs)
    if schedule.export_type == ScheduleType.DRILL:
        return _execute_drill(sc, schedule, run, fence, notify)
    selector = parse_selector(schedule.table, sc.core.aws.aliases)
    if selector is not None:
        return _execute_selection(sc, schedule, run, selector, fence)
    try:
        plan = run.plan or plan_export(sc, schedule, run.fire_time)
        if run.plan is None:
            with fence.fenced() as connection:
                sc.store.save_plan(run.id, plan, connection=connection)
    except BotError as error:
        return _finish(fence, sc, run, RunState.FAILED, notify, error=error.message, fix=error.fix)
    except Exception:
        return _crashed(sc, schedule, run, fence, notify)
    if plan.export_type == SKIP:
        return _finish(fence, sc, run, RunState.SKIPPED, notify, error=plan.note)
    try:
        options = replace(schedule_options(schedule.options), at=plan.at, since=plan.since, until=plan.until)
        started = start_export(
            sc.core,
            schedule.table,
            options,
            Requester(run.requested_by or f"schedule:{schedule.id}"[:64]),
            client_token=client_token(schedule.id, run.fire_time),
            schedule_id=schedule.id,
            folder_time=run.fire_time,
            steps=fence.step,
        )
    except BotError as error:
        return _finish(fence, sc, run, RunState.FAILED, notify, error=error.message, fix=error.fix)
    except Exception:
        return _crashed(sc, schedule, run, fence, notify)
    has_news = run.kind == RunKind.CATCH_UP or (plan.note is not None and notify)
    logger.info(
        "schedule.fire_started",
        extra={"schedule_id": schedule.id, "fire_time": iso(run.fire_time), "export_id": started.job.export_id},
    )
    return _finish(fence, sc, run, RunState.STARTED, has_news, export_arn=started.job.export_arn)


def _execute_selection(
    sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, selector: TableSelector, fence: Fence
) -> str:
    """A many-table fire: every matching table a target of its own (started, failed with its reason, or queued),
    reported in one message (manual runs included); what is left is carried on by the fire's `fanout` work."""
    try:
        if not lay_out(sc, run, selector, fence):
            note = f"No table matches `{selector.key}` now, so nothing was exported."
            return _finish(fence, sc, run, RunState.SKIPPED, True, error=note)
        done = start_tables(sc, schedule, run, selector, fence)
    except BotError as error:
        return _finish(fence, sc, run, RunState.FAILED, True, error=error.message, fix=error.fix)
    except ClaimLost:
        raise
    except Exception:
        return _crashed(sc, schedule, run, fence, True)
    with fence.finishing() as connection:
        record(sc, run, done, connection)
    started = len(done.in_state(TargetState.DONE))
    logger.info(
        "schedule.fire_tables_started",
        extra={
            "schedule_id": schedule.id,
            "fire_time": iso(run.fire_time),
            "tables": len(done.targets),
            "started": started,
            "complete": done.complete,
        },
    )
    return "started" if started or not done.complete else "failed"


def _execute_drill(sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, fence: Fence, notify: bool) -> str:
    """A drill schedule's fire: queue a restore drill of the table's latest full export, or of a point in time (one
    per fire, whoever queues it: a fire asked again finds its drill, moment and all); the drill posts its own result
    (to the schedule's channel and the notification channel)."""
    if sc.queue_drill is None:
        return _finish(fence, sc, run, RunState.FAILED, notify, error="Restore drills are not available in this bot.")
    requester = Requester(run.requested_by or f"schedule:{schedule.id}"[:64], sc.channel_for(schedule))
    drill_id = "d-" + hashlib.sha256(f"{schedule.id}@{iso(run.fire_time)}".encode()).hexdigest()[:8]
    try:
        drill = sc.queue_drill(schedule.table, drill_options(schedule.options), requester, drill_id)
    except BotError as error:
        return _finish(fence, sc, run, RunState.FAILED, notify, error=error.message, fix=error.fix)
    except Exception:
        return _crashed(sc, schedule, run, fence, notify)
    fence.step("aws_called")
    note = f"Restore drill `{drill.id}` of `{drill.spec.table_key}` queued; its result follows here."
    logger.info(
        "schedule.fire_drill_queued",
        extra={"schedule_id": schedule.id, "fire_time": iso(run.fire_time), "drill_id": drill.id},
    )
    return _finish(fence, sc, run, RunState.STARTED, notify or run.kind == RunKind.CATCH_UP, error=note)


def _finish(fence: Fence, sc: ScheduleCore, run: ScheduleRun, state: str, note: bool, **fields: Any) -> str:
    """The run's end and its note, committed with the claim settled."""
    with fence.finishing() as connection:
        sc.store.finish_run(run.id, state, note=note, connection=connection, **fields)
    return "skipped" if state == RunState.SKIPPED else "started" if state == RunState.STARTED else "failed"


def _crashed(sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, fence: Fence, notify: bool) -> str:
    reference = uuid.uuid4().hex[:8]
    logger.exception(
        "schedule.fire_failed",
        extra={"schedule_id": schedule.id, "fire_time": iso(run.fire_time), "reference": reference},
    )
    message = f"Something went wrong on my side (reference {reference}); no export was started by this run."
    return _finish(fence, sc, run, RunState.FAILED, notify, error=message)


class FanoutWork:
    """The `fanout` kind: carry on a many-table fire's tables, each on its own when it is due (queued ones as exports
    finish and make room, failed ones after their pause); it is given back until the next table is due (no attempt
    counted), and ends once every table is settled or a day has passed since the fire."""

    def __init__(self, sc: ScheduleCore) -> None:
        self._sc = sc

    def run(self, item: Claim, fence: Fence) -> None:
        """One pass over the due tables; a message when it changed something."""
        sc = self._sc
        run = sc.store.get_run(int(item.key))
        schedule = sc.store.get(run.schedule_id) if run is not None else None
        selector = parse_selector(schedule.table, sc.core.aws.aliases) if schedule is not None else None
        if run is None or schedule is None or selector is None or run.state == RunState.CLAIMED:
            return
        lay_out_queued(sc, run, fence)
        if expired(sc, run, sc.core.clock()):
            self._give_up_rest(item, fence, "they were not exported within a day of the fire")
            return
        with log_context(schedule_id=schedule.id, fire=iso(run.fire_time)):
            done = start_tables(sc, schedule, run, selector, fence)
        if fence.halt.is_set() and not done.complete:
            return
        if done.complete:
            with fence.finishing() as connection:
                if done.news():
                    record(sc, run, done, connection, later=True)
            return
        if done.news():
            with fence.fenced() as connection:
                record(sc, run, done, connection, later=True)
        defer_to_next(fence, sc.targets, done)

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """The tables still to do are given up; the run's message names them and mentions on-call."""
        self._give_up_rest(item, fence, reason)

    def _give_up_rest(self, item: Claim, fence: Fence, reason: str) -> None:
        sc = self._sc
        run = sc.store.get_run(int(item.key))
        with fence.finishing(WorkState.GIVEN_UP, reason) as connection:
            given_up = sc.targets.give_up_rest(connection, FANOUT, item.key, f"The bot gave up on it: {reason}.")
            if run is not None and given_up:
                left = sc.targets.of(FANOUT, item.key, connection)
                record(sc, run, FanOutPass(tuple(left), tuple(given_up)), connection, later=True)
