"""Builds the recovery feature: its store, the command use cases, the preparer (run in the background) and the
executor that RECOVER and REVERT restore requests run with; the planner the approval workflow asks for them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.authz import Authorizer
from bot.background.periodic import PeriodicJob
from bot.core import Core
from bot.models import Requester
from bot.recovery.executor import RepairExecutor
from bot.recovery.models import Preparation, State
from bot.recovery.plan import plan_repair, repair_spec
from bot.recovery.prepare import Preparer, RepairRequests
from bot.recovery.service import Recoveries
from bot.recovery.store import RecoveryStore
from bot.restores.models import REPAIR_MODES, RestoreRequest
from bot.restores.plans import PlannedRestore, RestoreSpec
from bot.restores.repairs import RepairOptions
from bot.restores.store import RestoreStore
from bot.restores.workflow import Restores
from handlers.recovery.notifier import SlackRecoveryNotifier

REPAIR_CONCURRENCY = 4
REQUESTS_LOOKED_THROUGH = 200  # a preparation's request, made before a crash, is found among the newest requests


@dataclass(frozen=True)
class RecoveryFeature:
    """The use cases (for the Slack surface), the restore executor, and what the preparation job runs on."""

    recoveries: Recoveries
    executor: RepairExecutor
    store: RecoveryStore
    wake: threading.Event  # set when a preparation is queued: the job looks at once


def build_recovery(
    engine: Engine, core: Core, authorizer: Authorizer, poll_seconds: float, loader_retry_seconds: float
) -> RecoveryFeature:
    """Everything but the link to the approval workflow, which `connect` makes once it exists."""
    store = RecoveryStore(engine)
    wake = threading.Event()
    recoveries = Recoveries(core, store, authorizer, lambda _preparation_id: wake.set())
    executor = RepairExecutor(store, REPAIR_CONCURRENCY, loader_retry_seconds)
    return RecoveryFeature(recoveries, executor, store, wake)


def repair_planner(
    store: RecoveryStore, planner: Callable[[Core, RestoreSpec], PlannedRestore]
) -> Callable[[Core, RestoreSpec], PlannedRestore]:
    """The approval workflow's planner: repairs planned from their preparation, every other mode as before."""

    def plan(core: Core, spec: RestoreSpec) -> PlannedRestore:
        if spec.mode in REPAIR_MODES:
            return plan_repair(core, store, spec)
        return planner(core, spec)

    return plan


def preparation_job(
    feature: RecoveryFeature, core: Core, restores: Restores, slack: WebClient, poll_seconds: float
) -> PeriodicJob:
    """The background job that carries preparations to their end, once repairs can be requested.

    NOT the shared claimed-work engine yet (bot/background's work_claims lands on another branch): until it does,
    this job advances every preparation still exporting, on each replica; each step is safe to run twice, but two
    replicas may both post an answer. Moving onto the engine: one work kind whose run() is `preparer.advance`.
    """
    requests = RepairRequests(
        make=lambda preparation: _request(restores, preparation),
        find=lambda preparation_id: _made_for(restores.store, preparation_id),
    )
    preparer = Preparer(core, feature.store, SlackRecoveryNotifier(slack), requests, poll_seconds)

    def advance_all() -> None:
        for preparation in feature.store.in_state(State.EXPORTING):
            if job.stopping.is_set():
                return
            preparer.advance(preparation.id, job.stopping, feature.store.engine.begin)

    job = PeriodicJob("recovery-preparations", poll_seconds, advance_all, feature.wake)
    return job


def _request(restores: Restores, preparation: Preparation) -> RestoreRequest:
    requester = Requester(preparation.requested_by, preparation.channel_id)
    return restores.request(repair_spec(preparation), requester).request


def _made_for(store: RestoreStore, preparation_id: str) -> RestoreRequest | None:
    for request in store.recent(REQUESTS_LOOKED_THROUGH):
        options = request.plan.options
        if isinstance(options, RepairOptions) and options.preparation == preparation_id:
            return request
    return None
