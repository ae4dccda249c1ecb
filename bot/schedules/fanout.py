"""One fire of a many-table schedule: every matching table is a target of the fire (bot.background.fanout), started
with its own ClientToken, failed with its reason, or queued while the account runs as many exports as it may.

The fire lays its tables out once and makes the first pass itself; whatever is left (queued for room, failed and to
be tried again) is carried on by the fire's `fanout` work (claimed work, key: the run's id), which takes each table
again on its own when it is due: a table that failed is retried without the others being asked again, and given up
after DDBBOT_WORK_MAX_ATTEMPTS. The run's message names every table that was not exported, with its reason, and
mentions on-call while any is not; each later pass that changes something says so in a new message (what changed,
and again every table not exported), also when the holder that changed it died before saying so.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from bot.aws.tables import TableRef
from bot.background.claims import enqueue_work
from bot.background.fanout import FanOutPass, run_targets
from bot.background.fence import Fence
from bot.background.targets import NOT_DONE, Done, Dropped, Failed, Outcome, Seed, Target, TargetState, Waiting
from bot.errors import BotError
from bot.exports.start import start_export
from bot.models import ExportType, Requester
from bot.schedules.models import ExportPlan, RunState, Schedule, ScheduleRun
from bot.schedules.selection import TableSelector, matching_tables, table_tagged, unreadable_reason
from bot.schedules.service import ScheduleCore, schedule_options
from bot.timefmt import iso

logger = logging.getLogger(__name__)
FANOUT = "fanout"  # the claimed work that carries on a fire's tables: key = the run's id
QUEUED = "queued:"  # the plan note of a fire queued before per-table targets: `queued:["prod:a", ...]`
CHECK_TAG = "check_tag"  # a table whose tags could not be read: read them again before exporting it
CONTINUE_WITHIN = timedelta(hours=24)
ROOM = "queued until exports finish (DynamoDB runs at most 300 at once per account)"


def table_token(schedule_id: str, table: str, run: ScheduleRun) -> str:
    """The ClientToken of one table's export in one fire: the same fire never asks twice for a table."""
    text = f"ddb-backup-bot/schedule/{schedule_id}/{table}/{iso(run.fire_time)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def lay_out(sc: ScheduleCore, run: ScheduleRun, selector: TableSelector, fence: Fence) -> bool:
    """The fire's tables as its targets, laid out once (a holder taking over keeps them); False when none matches.
    Raises BotError when the account's tables cannot be listed."""
    if sc.targets.of(FANOUT, str(run.id)):
        return True
    found = matching_tables(sc.core, selector)
    seeds = [Seed(table) for table in found.tables]
    seeds += [Seed(table, failed=reason, detail={CHECK_TAG: True}) for table, reason in found.unreadable]
    if not seeds:
        return False
    with fence.fenced() as connection:
        sc.targets.plan(connection, FANOUT, str(run.id), sorted(seeds, key=lambda seed: seed.name))
    return True


def lay_out_queued(sc: ScheduleCore, run: ScheduleRun, fence: Fence) -> None:
    """A fire queued before per-table targets existed: its queued tables become its targets."""
    if sc.targets.of(FANOUT, str(run.id)) or run.plan is None or not (run.plan.note or "").startswith(QUEUED):
        return
    tables = [str(t) for t in json.loads((run.plan.note or "")[len(QUEUED) :] or "[]")]
    with fence.fenced() as connection:
        sc.targets.plan(connection, FANOUT, str(run.id), [Seed(t) for t in tables])


def start_tables(
    sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, selector: TableSelector, fence: Fence
) -> FanOutPass:
    """One pass over the fire's due tables: each started, failed or left queued, and recorded as it comes."""
    starter = TableStarter(sc, schedule, run, selector, fence)
    return run_targets(fence, sc.targets, FANOUT, str(run.id), starter)


class TableStarter:
    """One table's attempt in a pass: its tags read again if they could not be before, then its export started
    with the fire's ClientToken for it, while the account has room."""

    def __init__(self, sc: ScheduleCore, schedule: Schedule, run: ScheduleRun, selector: TableSelector, fence: Fence):
        self._sc, self._schedule, self._run, self._selector, self._fence = sc, schedule, run, selector, fence
        self._room = sc.exports_per_account - _in_flight(sc, selector)

    def __call__(self, target: Target) -> Outcome:
        """Started (done), failed, queued (waiting for room) or dropped (no longer tagged)."""
        sc, table = self._sc, target.name
        token = table_token(self._schedule.id, table, self._run)
        existing = sc.core.store.by_client_token(token)
        if existing is not None:
            return Done({"export_arn": existing.export_arn, "export_id": existing.export_id})
        if target.detail.get(CHECK_TAG):
            try:
                if not table_tagged(sc.core, self._selector, _name(table)):
                    return Dropped(f"no longer carries `{self._selector.key}`")
            except BotError as error:
                return Failed(unreadable_reason(error))
        if self._room <= 0:
            return Waiting(ROOM, sc.fanout_wait)
        try:
            started = start_export(
                sc.core,
                table,
                schedule_options(self._schedule.options),
                Requester(self._run.requested_by or f"schedule:{self._schedule.id}"[:64]),
                client_token=token,
                schedule_id=self._schedule.id,
                folder_time=self._run.fire_time,
                steps=self._fence.step,
            )
        except BotError as error:
            return Failed(error.message + (f" {error.fix}" if error.fix else ""))
        self._room -= 1
        return Done({"export_arn": started.job.export_arn, "export_id": started.job.export_id})


@dataclass(frozen=True)
class FireTables:
    """What a fire's message says about its tables: those started, failed (tried again later), given up and queued,
    and those dropped (no longer tagged)."""

    started: tuple[Target, ...]
    failed: tuple[Target, ...]
    given_up: tuple[Target, ...]
    queued: tuple[Target, ...]
    dropped: tuple[Target, ...] = ()

    @classmethod
    def of(cls, targets: Sequence[Target]) -> FireTables:
        """Sorted by state (each in planned order)."""

        def having(state: TargetState) -> tuple[Target, ...]:
            return tuple(t for t in targets if t.state == state)

        return cls(
            having(TargetState.DONE),
            having(TargetState.FAILED),
            having(TargetState.GIVEN_UP),
            having(TargetState.PENDING),
            having(TargetState.DROPPED),
        )

    def summary(self, max_attempts: int) -> str:
        """One line per table, failures first."""
        failed = len(self.failed) + len(self.given_up)
        head = f"{len(self.started)} exports started, {failed} failed, {len(self.queued)} queued."
        lines = [f"• `{t.name}`: {t.reason} Gave up after {t.attempts} attempts." for t in self.given_up]
        lines += [
            f"• `{t.name}`: {t.reason} Tried again on its own later (attempt {t.attempts} of {max_attempts})."
            for t in self.failed
        ]
        lines += [f"• `{t.name}`: export `{t.detail.get('export_id', '?')}` started" for t in self.started]
        lines += [f"• `{t.name}`: {t.reason}; not exported." for t in self.dropped]
        if self.queued:
            lines.append(f"• {ROOM}: " + ", ".join(f"`{t.name}`" for t in self.queued))
        return "\n".join([head, *lines])


def record(
    sc: ScheduleCore, run: ScheduleRun, done: FanOutPass, connection: Connection, *, later: bool = False
) -> None:
    """Keep what the fire's tables came to in the run and owe its message; queue the fire's `fanout` work for
    whatever is left: in the caller's fenced transaction. A `later` message gives what people were not told yet
    (tables started or dropped since) and, again, every table not exported, failures first: each message stands
    alone, and its news is never cut off behind an earlier summary."""
    if later:
        news = FireTables.of([t for t in done.targets if t.untold])
        now = FireTables.of(done.targets)
        tables = FireTables(news.started, now.failed, now.given_up, now.queued, news.dropped)
        summary = f"Later: {tables.summary(sc.targets.max_attempts)}"
    else:
        summary = FireTables.of(done.targets).summary(sc.targets.max_attempts)
    sc.store.save_plan(run.id, ExportPlan(ExportType.FULL), connection=connection)
    tables = FireTables.of(done.targets)
    state = RunState.STARTED if tables.started or not done.complete else RunState.FAILED
    if done.complete and not (tables.started or tables.given_up):
        state = RunState.SKIPPED  # every table turned out not to carry the tag
    first = tables.started[0].detail.get("export_arn") if tables.started else run.export_arn
    sc.store.finish_run(run.id, state, note=True, connection=connection, error=summary, export_arn=first)
    sc.targets.told(connection, FANOUT, str(run.id))
    if not done.complete:
        enqueue_work(connection, FANOUT, str(run.id), available_at=done.next_due())


def tables_not_done(sc: ScheduleCore, run: ScheduleRun) -> bool:
    """Whether any table of the fire failed or was given up (on-call is told while one is)."""
    return any(t.state in NOT_DONE for t in sc.targets.of(FANOUT, str(run.id)))


def expired(sc: ScheduleCore, run: ScheduleRun, now: datetime) -> bool:
    """A fire's tables are carried on within a day of the fire; after that they are given up."""
    return now - run.fire_time > CONTINUE_WITHIN


def _name(table: str) -> str:
    """The table's name as DynamoDB knows it, from the name commands use (`prod:orders` → `orders`)."""
    return table.split(":", 1)[1] if ":" in table and not table.startswith("arn:") else table


def _in_flight(sc: ScheduleCore, selector: TableSelector) -> int:
    place = sc.core.aws.place_of(TableRef("-", alias=selector.alias))
    return sum(
        1
        for job in sc.core.store.unfinished_exports()
        if job.account_alias == place.alias and job.region == place.region
    )
