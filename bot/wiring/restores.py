"""Builds the restore feature: its store, the approval workflow and the restore work (run by the work runner), with
Slack reporting."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.authz import Authorizer
from bot.core import Core
from bot.exports.reference import ReferenceStore
from bot.restores.bulk_options import Tier
from bot.restores.control import RestoreControl
from bot.restores.engine import GB, BulkPolicy
from bot.restores.executors import Executor, ImportExecutor, PitrExecutor
from bot.restores.import_board import ImportStatusBoard
from bot.restores.load import LoadExecutor
from bot.restores.load_checkpoints import SqlLoadCheckpoints
from bot.restores.models import RestoreMode
from bot.restores.plans import PlannedRestore, RestoreSpec, plan_restore
from bot.restores.rate import parse_rate
from bot.restores.runner import RestoreResults, RestoreWork, RunnerTiming
from bot.restores.store import RestoreStore
from bot.restores.workflow import ApprovalPolicy, Restores
from bot.settings import Settings
from handlers.restores.notifier import SlackRestoreNotifier

PROGRESS_SECONDS = 10.0
LOAD_CONCURRENCY = 4


@dataclass(frozen=True)
class RestoreFeature:
    """The approval workflow (for the Slack surface), the restore work, its result notes' poster, and cancel and
    retry."""

    workflow: Restores
    work: RestoreWork
    results: RestoreResults
    control: RestoreControl


def runner_timing(poll_seconds: float) -> RunnerTiming:
    """Poll AWS every DDBBOT_POLL_SECONDS; report progress at most every 10 s."""
    return RunnerTiming(poll_seconds=poll_seconds, progress_seconds=min(PROGRESS_SECONDS, poll_seconds * 2))


def executors(
    engine: Engine, poll_seconds: float, loader_retry_seconds: float = 300.0, references: ReferenceStore | None = None
) -> dict[str, Executor]:
    """One executor per mode; the loader's checkpoints live in the bot's database, and it checks the exports the bot
    recorded against that record."""
    return {
        RestoreMode.IMPORT: ImportExecutor(ImportStatusBoard(poll_seconds * 0.9)),
        RestoreMode.PITR: PitrExecutor(),
        RestoreMode.LOAD: LoadExecutor(
            SqlLoadCheckpoints(engine), LOAD_CONCURRENCY, loader_retry_seconds, references=references
        ),
    }


Planner = Callable[[Core, RestoreSpec], PlannedRestore]


def build_restores(
    settings: Settings,
    engine: Engine,
    core: Core,
    slack: WebClient,
    authorizer: Authorizer,
    references: ReferenceStore,
    wake: Callable[[], None],
    *,
    more_executors: Mapping[str, Executor] | None = None,
    planner_for: Callable[[Planner], Planner] = lambda planner: planner,
) -> RestoreFeature:
    """The workflow wakes the work runner (`wake`) when a request is approved. `more_executors` and `planner_for` let
    other features add modes (the recovery's repairs)."""
    store = RestoreStore(engine)
    notifier = SlackRestoreNotifier(slack)
    policy = ApprovalPolicy(
        approvers=tuple(settings.approvers),
        required_approvals=settings.required_approvals,
        ttl=timedelta(minutes=settings.approval_ttl_minutes),
        channel=settings.approval_channel,
    )
    default_rate = parse_rate(settings.restore_rate)  # DDBBOT_RESTORE_RATE, already checked by Settings
    workflow = Restores(
        core,
        store,
        authorizer,
        notifier,
        policy,
        on_approved=lambda _request: wake(),
        planner=planner_for(
            functools.partial(
                plan_restore, default_rate=default_rate, references=references, bulk_policy=bulk_policy(settings)
            )
        ),
    )
    work = RestoreWork(
        core,
        store,
        notifier,
        {
            **executors(engine, settings.poll_seconds, settings.loader_retry_seconds, references),
            **(more_executors or {}),
        },
        runner_timing(settings.poll_seconds),
    )
    control = RestoreControl(core, store, authorizer, workflow, SqlLoadCheckpoints(engine))
    return RestoreFeature(workflow, work, RestoreResults(store, notifier, core.notify_channel), control)


def bulk_policy(settings: Settings) -> BulkPolicy:
    """What the bot assumes of bulk put's unconfirmed limits (DDBBOT_BULK_*)."""
    return BulkPolicy(
        max_input_bytes={
            Tier.STANDARD: settings.bulk_max_input_gb_standard * GB,
            Tier.ACCELERATED: settings.bulk_max_input_gb_accelerated * GB,
        },
        accelerated_regions=frozenset(settings.bulk_accelerated_regions),
    )
