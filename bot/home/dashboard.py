"""What a person sees in the bot's App Home tab: coverage, work running now, restores waiting for their approval,
the next scheduled fires and the last failures; gathered from the store and the (cached) coverage survey."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.controls.models import ControlsReport
from bot.coverage.models import CoverageReport
from bot.coverage.survey import CoverageSurvey
from bot.errors import BotError
from bot.models import ExportJob, ExportStatus
from bot.restores.models import RestoreRequest, RestoreStatus
from bot.restores.store import RestoreStore
from bot.restores.summary import PlanSummary, plan_summary
from bot.schedules.models import Schedule
from bot.schedules.service import ScheduleCore

RECENT = timedelta(days=7)
SHOWN = 10
REQUESTS_READ = 200
ENDED_SHORT = frozenset({RestoreStatus.FAILED, RestoreStatus.PARTIAL, RestoreStatus.CANCELLED})  # "failures"


@dataclass(frozen=True)
class Dashboard:
    """One person's Home tab."""

    at: datetime
    coverage: CoverageReport | None
    coverage_problem: str | None
    running_exports: tuple[ExportJob, ...]
    running_restores: tuple[RestoreRequest, ...]
    pending: tuple[PlanSummary, ...]  # what an approver decides on, as the approval message shows it
    approver: bool
    next_fires: tuple[tuple[Schedule, datetime], ...]
    failed_exports: tuple[ExportJob, ...]
    failed_restores: tuple[RestoreRequest, ...]  # FAILED, PARTIAL (not every promised item landed) and CANCELLED
    warnings: tuple[str, ...] = ()  # settings to fix that everyone should see (nobody may approve, everyone may act)
    controls: ControlsReport | None = None  # the controls of the surveyed tables (None: coverage not read)


def build_dashboard(
    sc: ScheduleCore,
    restores: RestoreStore,
    survey: CoverageSurvey,
    *,
    approver: bool,
    warnings: tuple[str, ...] = (),
    controls_of: Callable[[CoverageReport], ControlsReport] | None = None,
) -> Dashboard:
    """Read everything the Home tab shows (AWS only through the coverage survey, which is cached, and the controls
    of its tables, judged once per survey)."""
    now = sc.core.clock()
    coverage, problem = _coverage(survey)
    requests = restores.recent(REQUESTS_READ)
    recent_exports = sc.core.store.exports_since(now - RECENT)
    return Dashboard(
        at=now,
        coverage=coverage,
        coverage_problem=problem,
        running_exports=tuple(sc.core.store.unfinished_exports()[:SHOWN]),
        running_restores=tuple(r for r in requests if r.status in {RestoreStatus.APPROVED, RestoreStatus.RUNNING})[
            :SHOWN
        ],
        pending=tuple(plan_summary(r) for r in requests if r.status == RestoreStatus.PENDING)[:SHOWN],
        approver=approver,
        next_fires=_next_fires(sc, now),
        failed_exports=tuple(j for j in recent_exports if j.status == ExportStatus.FAILED)[:SHOWN],
        failed_restores=tuple(
            r for r in requests if r.status in ENDED_SHORT and r.created_at and now - r.created_at < RECENT
        )[:SHOWN],
        warnings=warnings,
        controls=controls_of(coverage) if controls_of is not None and coverage is not None else None,
    )


def _coverage(survey: CoverageSurvey) -> tuple[CoverageReport | None, str | None]:
    try:
        return survey.report(), None
    except BotError as error:
        return None, error.message


def _next_fires(sc: ScheduleCore, now: datetime) -> tuple[tuple[Schedule, datetime], ...]:
    fires = [
        (schedule, fire)
        for schedule in sc.store.all()
        if not schedule.paused
        if (fire := sc.calendar.next_fire(schedule.cron, schedule.timezone, now)) is not None
    ]
    return tuple(sorted(fires, key=lambda pair: pair[1])[:SHOWN])
