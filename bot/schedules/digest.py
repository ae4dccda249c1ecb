"""The daily digest: per table the last successful export, the next run, PITR and the month's estimated cost.

Tables named in the config file or scheduled are flagged when PITR is off, or when a scheduled table's last successful
export is older than one interval of its cron plus the time a run may take (`expected_hours`, else another interval).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from bot.aws.pricing import gib
from bot.costs import export_cost, table_size
from bot.drills.models import drill_flag
from bot.errors import BotError
from bot.exports.chain import CHAIN_LOOKBACK, coverage
from bot.models import ExportJob, ExportStatus
from bot.schedules.models import DIGEST_ID, Digest, DigestTable, ExportPlan, Schedule, ScheduleType
from bot.schedules.service import ScheduleCore
from bot.timefmt import iso

logger = logging.getLogger(__name__)
MIN_EXPECTED = timedelta(hours=1)
UNPROTECTED = "unprotected:"  # a digest run's note: the tables without PITR it saw, as JSON
MAX_NOT_READ = 20  # tables and places named as not read; the rest counted
GAP_HORIZON = timedelta(days=7)
MAX_GAPS = 3


def build_digest(sc: ScheduleCore, fire_time: datetime, run_id: int | None = None) -> Digest:
    """Read every table's state now (AWS is asked once per table); with the digest's run, what coverage changed
    since the previous digest is compared and the current state kept for the next one."""
    now = sc.core.clock()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    schedules = sc.store.all()
    by_table: dict[str, list[Schedule]] = {}
    for schedule in schedules:
        by_table.setdefault(schedule.table_key, []).append(schedule)
    named = set(sc.core.config.tables) | set(by_table)
    month_jobs = sc.core.store.exports_since(month_start)
    keys = sorted(named | {job.table_key for job in month_jobs})
    last = sc.core.store.last_completed(keys)
    tables = [
        _table_line(sc, key, by_table.get(key, []), last.get(key), month_jobs, month_start, now, key in named)
        for key in keys
    ]
    tables.sort(key=lambda t: (not t.flags, t.table_key))
    note = "Costs are estimates at list prices of each table's region; PITR is prorated over the month so far."
    changes = coverage_changes(sc, fire_time, run_id) if run_id is not None else ()
    return Digest(at=fire_time, tables=tuple(tables), region_note=note, coverage_changes=changes)


def coverage_changes(sc: ScheduleCore, fire_time: datetime, run_id: int) -> tuple[str, ...]:
    """Tables of every account that lost or gained PITR since the previous digest (the first digest names every
    table without PITR); the current set is kept with this digest's run. A table the survey could not read (or whose
    place it could not list) is named as not read, kept as it was, and never called fixed."""
    if sc.unprotected is None:
        return ()
    try:
        survey = sc.unprotected()
    except BotError as error:
        return (f"Coverage could not be read: {error.message}",)
    now = survey.without
    before = _previous_unprotected(sc, fire_time)
    unknown = (before or frozenset()) - now - survey.with_pitr if survey.not_read else frozenset()
    kept = sorted(now | unknown)
    sc.store.save_plan(run_id, ExportPlan(DIGEST_ID, note=UNPROTECTED + json.dumps(kept)))
    lines = []
    if new := sorted(now - (before or frozenset())):
        lines.append(f"{'Now' if before is None else 'Newly'} without PITR: " + ", ".join(f"`{t}`" for t in new))
    if before is not None and (fixed := sorted(before - now - unknown)):
        lines.append("PITR now on (or table gone): " + ", ".join(f"`{t}`" for t in fixed))
    if survey.not_read:
        shown = ", ".join(survey.not_read[:MAX_NOT_READ])
        more = f" and {len(survey.not_read) - MAX_NOT_READ} more" if len(survey.not_read) > MAX_NOT_READ else ""
        lines.append(f"Not read, so not compared: {shown}{more} (`/ddb-coverage all` says why).")
    return tuple(lines)


def _previous_unprotected(sc: ScheduleCore, fire_time: datetime) -> frozenset[str] | None:
    for run in sc.store.runs(DIGEST_ID, limit=20):
        note = run.plan.note if run.plan else None
        if run.fire_time < fire_time and note and note.startswith(UNPROTECTED):
            return frozenset(json.loads(note[len(UNPROTECTED) :]))
    return None


def _table_line(
    sc: ScheduleCore,
    key: str,
    schedules: list[Schedule],
    last: ExportJob | None,
    month_jobs: list[ExportJob],
    month_start: datetime,
    now: datetime,
    watched: bool,
) -> DigestTable:
    active = [s for s in schedules if not s.paused]
    upcoming = [n for s in active if (n := sc.calendar.next_fire(s.cron, s.timezone, now)) is not None]
    next_run = min(upcoming) if upcoming else None
    flags: list[str] = []
    expected = _expected(sc, schedules, now)
    finished = (last.ended_at or last.started_at or last.created_at) if last else None
    if watched and expected is not None and (finished is None or now - finished > expected):
        since = f"since {iso(finished)}" if finished else "yet"
        flags.append(f"no successful export {since} (expected within {_hours(expected)})")
    flags.extend(_uncovered(sc, schedules, now))
    try:
        ref, place = sc.core.table(key)
        info, window = sc.core.describe(ref, place)
        rates = sc.core.rates(place)
    except BotError as error:
        return DigestTable(key, last, next_run, None, None, (*flags, "could not be read"), error.message)
    except Exception:  # one table's unexpected answer is that table's problem, never the whole digest's
        reference = uuid.uuid4().hex[:8]
        logger.exception("digest.table_unread", extra={"table": key, "reference": reference})
        problem = f"something went wrong reading it (reference {reference})"
        return DigestTable(key, last, next_run, None, None, (*flags, "could not be read"), problem)
    if watched and not window.enabled:
        flags.insert(0, "PITR is off")
    month = timedelta(days=_days_in_month(month_start))
    exports_cost = sum(
        (
            c
            for j in month_jobs
            if j.table_key == key and j.status == ExportStatus.COMPLETED
            if (c := export_cost(j, rates))
        ),
        Decimal(0),
    )
    pitr_cost = Decimal(0)
    if window.enabled:
        elapsed = Decimal(str((now - month_start) / month))
        pitr_cost = gib(table_size(sc.core, info).size_bytes) * rates.pitr_gb_month * elapsed
    drill = sc.last_drill(key)
    if watched and (drilled := drill_flag(drill, now, sc.drill_max_age)):
        flags.append(drilled)
    return DigestTable(key, last, next_run, window.enabled, exports_cost + pitr_cost, tuple(flags), last_drill=drill)


def _uncovered(sc: ScheduleCore, schedules: list[Schedule], now: datetime) -> list[str]:
    """The windows of the last week no export of an incremental schedule covers (a failed window the next run
    has not yet exported again, or a broken chain a full export restarted), newest first, at most three."""
    found = [
        (stop, f"{iso(start)}–{iso(stop)} not covered by any export of `{schedule.id}`")
        for schedule in schedules
        if schedule.export_type == ScheduleType.INCREMENTAL
        for start, stop in coverage(sc.core.store.schedule_exports(schedule.id, CHAIN_LOOKBACK)).gaps
        if stop > now - GAP_HORIZON
    ]
    found.sort(reverse=True)
    lines = [line for _, line in found[:MAX_GAPS]]
    if len(found) > MAX_GAPS:
        lines.append(f"{len(found) - MAX_GAPS} older windows not covered")
    return lines


def _expected(sc: ScheduleCore, schedules: list[Schedule], now: datetime) -> timedelta | None:
    """How old the last successful export may be: one interval of the tightest schedule plus the time a run may
    take (`expected_hours`, else another interval). None: the table has no schedule to expect anything from."""
    limits = []
    for schedule in schedules:
        fires = sc.calendar.fires(schedule.cron, schedule.timezone, now, now + timedelta(days=400), 2)
        if len(fires) < 2:
            continue
        interval = fires[1] - fires[0]
        allowance = timedelta(hours=schedule.expected_hours) if schedule.expected_hours else interval
        limits.append(max(interval + allowance, MIN_EXPECTED))
    return min(limits) if limits else None


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} h" if hours < 48 else f"{hours / 24:g} days"


def _days_in_month(month_start: datetime) -> int:
    following = (month_start + timedelta(days=32)).replace(day=1)
    return (following - month_start).days
