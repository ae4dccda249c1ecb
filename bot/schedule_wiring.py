"""Builds scheduled exports from the services (an extension of bootstrap: it alone may know Slack and SQL).

It syncs the config file's schedules into the store, registers /ddb-schedule, and puts the export tracker and the
scheduler behind one leader gate, so that of several replicas sharing a database exactly one runs them.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError
from bot.errors import UsageError
from bot.leader import LeaderGate
from bot.leases import LeaseStore
from bot.schedule_store import ScheduleStore
from bot.schedules import ScheduleCore, sync_config

if TYPE_CHECKING:
    from bot.bootstrap import Services

MAX_SYNC_SECONDS = 5.0


def replica_id() -> str:
    """Who holds the lease: host, process and a random part (a restarted process is a new holder)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def wire_schedules(services: Services) -> ScheduleCore:
    """Create the schedule use cases and the scheduler; gate the scheduler and the export tracker by the lease."""
    from handlers import rate_limits, schedule_commands
    from handlers.commands import Surface
    from handlers.schedule_notifier import SlackScheduleNotifier
    from scheduler.cron import ApsCronCalendar
    from scheduler.runner import ScheduleRunner

    settings, core = services.settings, services.core
    calendar = ApsCronCalendar()
    try:
        calendar.check(core.config.digest_cron, core.config.digest_timezone)
    except UsageError as error:
        raise ConfigError(f"[digest] cron/timezone: {error.message}") from None
    holder = replica_id()
    sc = ScheduleCore(
        core=core,
        store=ScheduleStore(services.engine),
        calendar=calendar,
        notifier=SlackScheduleNotifier(services.slack),
        holder=holder,
        oncall=settings.oncall,
    )
    sync_config(sc, core.config.schedules)
    runner = ScheduleRunner(
        sc,
        digest_cron=core.config.digest_cron if core.notify_channel else None,
        digest_timezone=core.config.digest_timezone,
        sync_seconds=min(MAX_SYNC_SECONDS, settings.lease_seconds),
    )
    tracker = services.tracker
    tracker.schedule_channel = lambda schedule_id: _channel(sc, schedule_id)
    tracker.oncall = settings.oncall
    gate = LeaderGate(
        LeaseStore(services.engine), [tracker, runner], holder=holder, lease_seconds=settings.lease_seconds
    )
    runner.leading = lambda: gate.leading
    if tracker in services.background:
        services.background[services.background.index(tracker)] = gate
    else:
        services.background.append(gate)
    surface = Surface(core, services.authorizer, tracker)

    def register(app: Any) -> None:
        rate_limits.register(app)
        schedule_commands.register(app, surface, sc)

    services.extra_registrations.append(register)
    return sc


def _channel(sc: ScheduleCore, schedule_id: str) -> str | None:
    schedule = sc.store.get(schedule_id)
    return schedule.channel if schedule else None
