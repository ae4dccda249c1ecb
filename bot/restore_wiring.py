"""Builds the restore feature from the services (an extension of bootstrap: it alone may know Slack and SQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.import_board import ImportStatusBoard
from bot.load_checkpoints import SqlLoadCheckpoints
from bot.restore_execute import default_executors
from bot.restore_runner import RestoreRunner, RunnerTiming
from bot.restore_store import RestoreStore
from bot.restores import ApprovalPolicy, Restores

if TYPE_CHECKING:
    from bot.bootstrap import Services

PROGRESS_SECONDS = 10.0
STALE_AFTER_INTERVALS = 10


def runner_timing(poll_seconds: float) -> RunnerTiming:
    """Look for work and poll AWS every DDBBOT_POLL_SECONDS; report progress at most every 10 s."""
    return RunnerTiming(
        interval=poll_seconds,
        poll_seconds=poll_seconds,
        progress_seconds=min(PROGRESS_SECONDS, poll_seconds * 2),
        stale_after=timedelta(seconds=max(poll_seconds * STALE_AFTER_INTERVALS, 1.0)),
    )


def wire_restores(services: Services) -> Restores:
    """Create the restore workflow and runner, register their Slack listeners and the background runner."""
    from handlers import actions, restore_commands
    from handlers.commands import Surface
    from handlers.restore_slack import SlackRestoreNotifier

    settings = services.settings
    store = RestoreStore(services.engine)
    notifier = SlackRestoreNotifier(services.slack)
    policy = ApprovalPolicy(
        approvers=tuple(settings.approvers),
        required_approvals=settings.required_approvals,
        ttl=timedelta(minutes=settings.approval_ttl_minutes),
        channel=settings.approval_channel,
    )
    holder: dict[str, Restores] = {}
    runner = RestoreRunner(
        services.core,
        store,
        notifier,
        default_executors(SqlLoadCheckpoints(services.engine), board=ImportStatusBoard(settings.poll_seconds * 0.9)),
        runner_timing(settings.poll_seconds),
        on_cycle=lambda: holder["restores"].expire_due(),
    )
    restores = Restores(
        services.core, store, services.authorizer, notifier, policy, on_approved=lambda _request: runner.poke()
    )
    holder["restores"] = restores
    surface = restore_commands.RestoreSurface(Surface(services.core, services.authorizer, services.tracker), restores)

    def register(app: Any) -> None:
        restore_commands.register(app, surface)
        actions.register(app, surface)

    services.extra_registrations.append(register)
    services.background.append(runner)
    return restores
