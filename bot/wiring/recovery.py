"""Builds the recovery feature: its store, the command use cases, its claimed work (preparations) and notes, and the
executor that RECOVER and REVERT restore requests run with; the planner the approval workflow asks for them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.authz import Authorizer
from bot.background.work import WorkKind
from bot.core import Core
from bot.models import Requester
from bot.recovery.executor import RepairExecutor
from bot.recovery.models import Preparation
from bot.recovery.plan import plan_repair, repair_spec
from bot.recovery.prepare import Preparer, RepairRequests
from bot.recovery.service import Recoveries
from bot.recovery.store import PREPARATION, RecoveryStore
from bot.recovery.work import PreparationWork, RecoveryNotes
from bot.restores.models import REPAIR_MODES, RestoreRequest
from bot.restores.plans import PlannedRestore, RestoreSpec
from bot.restores.repairs import RepairOptions
from bot.restores.store import RestoreStore
from bot.restores.workflow import Restores
from bot.settings import Settings
from handlers.recovery.notifier import SlackRecoveryNotifier

REPAIR_CONCURRENCY = 4
PREPARATIONS_AT_ONCE = 4  # a preparation reads exports and dry-runs in this process
REQUESTS_LOOKED_THROUGH = 200  # a preparation's request, made before a crash, is found among the newest requests

Planner = Callable[[Core, RestoreSpec], PlannedRestore]


@dataclass(frozen=True)
class RecoveryFeature:
    """The use cases (for the Slack surface), the restore executor, and the store the work and notes read."""

    recoveries: Recoveries
    executor: RepairExecutor
    store: RecoveryStore
    core: Core


def build_recovery(
    settings: Settings,
    engine: Engine,
    core: Core,
    slack: WebClient,
    authorizer: Authorizer,
    wake: Callable[[], None],
) -> RecoveryFeature:
    """Queuing a preparation wakes the work runner (`wake`)."""
    store = RecoveryStore(engine)
    recoveries = Recoveries(core, store, authorizer, lambda _preparation_id: wake())
    executor = RepairExecutor(store, REPAIR_CONCURRENCY, settings.loader_retry_seconds)
    return RecoveryFeature(recoveries, executor, store, core)


def repair_planner(store: RecoveryStore, planner: Planner) -> Planner:
    """The approval workflow's planner: repairs planned from their preparation, every other mode as before."""

    def plan(core: Core, spec: RestoreSpec) -> PlannedRestore:
        if spec.mode in REPAIR_MODES:
            return plan_repair(core, store, spec)
        return planner(core, spec)

    return plan


def preparation_kind(feature: RecoveryFeature, restores: Restores, poll_seconds: float) -> WorkKind:
    """The `recovery` kind of claimed work, once repairs can be requested."""
    requests = RepairRequests(
        make=lambda preparation: _request(restores, preparation),
        find=lambda preparation_id: _made_for(restores.store, preparation_id),
    )
    preparer = Preparer(feature.core, feature.store, requests, poll_seconds)
    return WorkKind(PREPARATION, PreparationWork(preparer), parallel=PREPARATIONS_AT_ONCE)


def recovery_notes(feature: RecoveryFeature, restores: Restores, slack: WebClient) -> RecoveryNotes:
    """The poster of the `recovery` notes."""
    return RecoveryNotes(feature.store, SlackRecoveryNotifier(slack), restores.store.get)


def _request(restores: Restores, preparation: Preparation) -> RestoreRequest:
    requester = Requester(preparation.requested_by, preparation.channel_id)
    return restores.request(repair_spec(preparation), requester).request


def _made_for(store: RestoreStore, preparation_id: str) -> RestoreRequest | None:
    for request in store.recent(REQUESTS_LOOKED_THROUGH):
        options = request.plan.options
        if isinstance(options, RepairOptions) and options.preparation == preparation_id:
            return request
    return None
