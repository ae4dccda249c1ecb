"""Builds scheduled exports: the schedule use cases (the config file's schedules synced into the store), and the
scheduler and the export tracker behind one leader gate, so that of several replicas sharing a database exactly one
runs them."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.aws.tables import TableRef
from bot.background.leader import LeaderGate, Leadership
from bot.background.leases import LeaseStore
from bot.background.targets import TargetStore
from bot.background.work import WorkDesk
from bot.config import ConfigError
from bot.core import Core
from bot.coverage.models import Cover, ScheduledPlace
from bot.drills.models import Drill
from bot.errors import BotError, UsageError
from bot.exports.tracker import ExportTracker
from bot.models import PitrSurvey, Requester
from bot.schedules.models import Schedule, ScheduleType
from bot.schedules.selection import parse_selector
from bot.schedules.service import DrillOptions, ScheduleCore, sync_config
from bot.schedules.store import ScheduleStore
from bot.settings import Settings
from handlers.schedules.notifier import SlackScheduleNotifier
from scheduler.cron import ApsCronCalendar
from scheduler.runner import ScheduleRunner

MAX_SYNC_SECONDS = 5.0
logger = logging.getLogger(__name__)


def replica_id() -> str:
    """Who holds the lease: host, process and a random part (a restarted process is a new holder)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def schedule_core(
    settings: Settings,
    engine: Engine,
    core: Core,
    slack: WebClient,
    holder: str,
    desk: WorkDesk,
    targets: TargetStore,
    *,
    unprotected: Callable[[], PitrSurvey] | None = None,
    last_drill: Callable[[str], Drill | None] = lambda _table_key: None,
    queue_drill: Callable[[str, DrillOptions, Requester, str], Drill] | None = None,
) -> ScheduleCore:
    """The schedule use cases, with the config file's schedules synced into the store; raises ConfigError."""
    calendar = ApsCronCalendar()
    try:
        calendar.check(core.config.digest_cron, core.config.digest_timezone)
    except UsageError as error:
        raise ConfigError(f"DDBBOT_CONFIG_FILE {settings.config_file}: [digest] {error.message}") from None
    sc = ScheduleCore(
        core=core,
        store=ScheduleStore(engine),
        calendar=calendar,
        notifier=SlackScheduleNotifier(slack),
        holder=holder,
        desk=desk,
        targets=targets,
        oncall=settings.oncall,
        exports_per_account=settings.exports_per_account,
        fanout_wait=timedelta(seconds=settings.poll_seconds),
        unprotected=unprotected,
        last_drill=last_drill,
        queue_drill=queue_drill,
        drill_max_age=timedelta(days=settings.drill_max_age_days),
    )
    try:
        sync_config(sc, core.config.schedules)
    except ConfigError as error:
        raise ConfigError(f"DDBBOT_CONFIG_FILE {settings.config_file}: {error.message}") from None
    return sc


def schedule_channel(sc: ScheduleCore, schedule_id: str) -> str | None:
    """A schedule's own channel, for the tracker's report of its exports."""
    schedule = sc.store.get(schedule_id)
    return schedule.channel if schedule else None


def scheduled_places(core: Core, store: ScheduleStore) -> list[ScheduledPlace]:
    """Every schedule resolved to the account, region and table it acts on, for the coverage survey. A tag
    selector's tables are known only by asking AWS at each fire: such a schedule is not counted here."""
    places = []
    for schedule in store.all():
        try:
            place = _scheduled_place(core, schedule)
        except BotError as error:  # a stored schedule naming an alias the config no longer has
            logger.warning("coverage.schedule_unresolved", extra={"schedule_id": schedule.id, "error": error.message})
            continue
        if place is not None:
            places.append(place)
    return places


def _scheduled_place(core: Core, schedule: Schedule) -> ScheduledPlace | None:
    cover = (
        Cover.DRILLS_ONLY
        if schedule.export_type == ScheduleType.DRILL
        else Cover.PAUSED
        if schedule.paused
        else Cover.EXPORTS
    )
    selector = parse_selector(schedule.table, core.aws.aliases)
    if selector is None:
        ref, place = core.table(schedule.table)
        return ScheduledPlace(place.alias, place.region, ref.name, cover)
    if selector.tag is not None:
        return None
    place = core.aws.place_of(TableRef("-", alias=selector.alias))
    return ScheduledPlace(place.alias, place.region, None, cover)


def leader_gate(settings: Settings, engine: Engine, sc: ScheduleCore, tracker: ExportTracker) -> LeaderGate:
    """The scheduler and the export tracker, run only while this replica holds the lease."""
    leadership = Leadership(LeaseStore(engine), holder=sc.holder, lease_seconds=settings.lease_seconds)
    runner = ScheduleRunner(
        sc,
        leading=leadership.is_leading,
        digest_cron=sc.core.config.digest_cron if sc.core.notify_channel else None,
        digest_timezone=sc.core.config.digest_timezone,
        sync_seconds=min(MAX_SYNC_SECONDS, settings.lease_seconds),
    )
    return LeaderGate(leadership, [tracker, runner])
