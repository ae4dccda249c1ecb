"""One fire of a many-table schedule: an export per matching table, each with its own ClientToken, at most as many
as the account may run at once; the rest waits (queued) and is started later by the fire's `fanout` work (claimed
work, bot.background.claims), which waits for room without counting attempts.

What happened is kept with the run: the summary people read (one line per table, failures first) and the tables
still queued (as JSON in the run's plan note), so any replica can carry on after a restart.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Connection

from bot.aws.tables import TableRef
from bot.background.claims import enqueue_work
from bot.background.fence import Step, no_step
from bot.errors import BotError
from bot.exports.start import start_export
from bot.models import ExportJob, ExportType, Requester
from bot.schedules.models import ExportPlan, RunState, Schedule, ScheduleRun
from bot.schedules.selection import TableSelector, matching_tables
from bot.schedules.service import ScheduleCore, schedule_options
from bot.timefmt import iso

logger = logging.getLogger(__name__)
FANOUT = "fanout"  # the claimed work that starts a fire's queued tables: key = the run's id
QUEUED = "queued:"  # the plan note of a fire with tables still waiting: `queued:["prod:a", ...]`
CONTINUE_WITHIN = timedelta(hours=24)


@dataclass
class FanOut:
    """What one pass over a fire's tables did."""

    started: list[tuple[str, ExportJob]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per table, failures first."""
        head = f"{len(self.started)} exports started, {len(self.failed)} failed, {len(self.queued)} queued."
        lines = [f"• `{table}`: {reason}" for table, reason in self.failed]
        lines += [f"• `{table}`: export `{job.export_id}` started" for table, job in self.started]
        if self.queued:
            lines.append(
                "• queued until exports finish (DynamoDB runs at most 300 at once per account): "
                + ", ".join(f"`{t}`" for t in self.queued)
            )
        return "\n".join([head, *lines])


def table_token(schedule_id: str, table: str, run: ScheduleRun) -> str:
    """The ClientToken of one table's export in one fire: the same fire never asks twice for a table."""
    text = f"ddb-backup-bot/schedule/{schedule_id}/{table}/{iso(run.fire_time)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def run_selection(
    sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, selector: TableSelector, steps: Step = no_step
) -> FanOut:
    """Start the fire's exports (the tables matching now); raises BotError when the tables cannot be listed."""
    tables = matching_tables(sc.core, selector)
    return _start(sc, schedule, run, selector, tables, steps)


def waiting(sc: ScheduleCore, run: ScheduleRun) -> list[str] | None:
    """The tables a fire left queued, while they may still be started; None when nothing waits."""
    if run.plan is None or not (run.plan.note or "").startswith(QUEUED):
        return None
    if sc.core.clock() - run.fire_time > CONTINUE_WITHIN:
        return None
    return [str(t) for t in json.loads((run.plan.note or "")[len(QUEUED) :] or "[]")] or None


def continue_queued(
    sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, selector: TableSelector, steps: Step = no_step
) -> FanOut | None:
    """Start what a fire left queued, when there is room now; None when nothing was waiting."""
    tables = waiting(sc, run)
    return _start(sc, schedule, run, selector, tables, steps) if tables else None


def record(
    sc: ScheduleCore,
    run: ScheduleRun,
    outcome: FanOut,
    connection: Connection,
    *,
    notify: bool,
    earlier: str | None = None,
) -> None:
    """Keep the pass's summary (after the earlier ones) and what still waits (its `fanout` work queued), and owe
    the message: in the caller's fenced transaction."""
    summary = outcome.summary() if earlier is None else f"{earlier}\n\nLater: {outcome.summary()}"
    note = QUEUED + json.dumps(outcome.queued) if outcome.queued else None
    sc.store.save_plan(run.id, ExportPlan(ExportType.FULL, note=note), connection=connection)
    state = RunState.STARTED if outcome.started or outcome.queued or earlier else RunState.FAILED
    first = outcome.started[0][1].export_arn if outcome.started else run.export_arn
    sc.store.finish_run(run.id, state, note=notify, connection=connection, error=summary, export_arn=first)
    if outcome.queued:
        enqueue_work(connection, FANOUT, str(run.id))


def _start(
    sc: ScheduleCore,
    schedule: Schedule,
    run: ScheduleRun,
    selector: TableSelector,
    tables: list[str],
    steps: Step,
) -> FanOut:
    outcome = FanOut()
    room = sc.exports_per_account - _in_flight(sc, selector)
    options = schedule_options(schedule.options)
    requester = Requester(run.requested_by or f"schedule:{schedule.id}"[:64])
    for table in tables:
        token = table_token(schedule.id, table, run)
        existing = sc.core.store.by_client_token(token)
        if existing is not None:
            outcome.started.append((table, existing))
            continue
        if room <= 0:
            outcome.queued.append(table)
            continue
        try:
            started = start_export(
                sc.core,
                table,
                options,
                requester,
                client_token=token,
                schedule_id=schedule.id,
                folder_time=run.fire_time,
                steps=steps,
            )
        except BotError as error:
            outcome.failed.append((table, error.message + (f" {error.fix}" if error.fix else "")))
            continue
        outcome.started.append((table, started.job))
        room -= 1
    return outcome


def _in_flight(sc: ScheduleCore, selector: TableSelector) -> int:
    place = sc.core.aws.place_of(TableRef("-", alias=selector.alias))
    return sum(
        1
        for job in sc.core.store.unfinished_exports()
        if job.account_alias == place.alias and job.region == place.region
    )
