"""Builds verification and drills: their stores, the use cases the Slack surface calls, and their claimed work (run
by the work runner) and result notes, reporting to Slack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.background.notes import NotePoster
from bot.background.work import WorkKind
from bot.core import Core
from bot.drills.runner import DrillResults, DrillWork
from bot.drills.service import Drills
from bot.drills.store import DRILL, DrillStore
from bot.exports.reference import ReferenceStore
from bot.settings import Settings
from bot.verification.runner import VerificationResults, VerificationTiming, VerificationWork
from bot.verification.service import Verifications
from bot.verification.store import VERIFICATION, VerificationStore
from handlers.drills.notifier import SlackDrillNotifier
from handlers.verification.notifier import SlackVerificationNotifier

PROGRESS_SECONDS = 10.0


@dataclass(frozen=True)
class DrillFeature:
    """The use cases (for the Slack surface), their kinds of work, and their result notes' posters (by topic)."""

    verifications: Verifications
    drills: Drills
    kinds: tuple[WorkKind, ...]
    results: dict[str, NotePoster]


def verification_timing(poll_seconds: float) -> VerificationTiming:
    """Progress at most every 10 s."""
    return VerificationTiming(progress_seconds=min(PROGRESS_SECONDS, poll_seconds * 2))


def build_drills(
    settings: Settings,
    engine: Engine,
    core: Core,
    slack: WebClient,
    references: ReferenceStore,
    wake: Callable[[], None],
) -> DrillFeature:
    """Queuing a verification (a drill) wakes the work runner (`wake`); each replica runs one of each at a time."""
    store, drill_store = VerificationStore(engine), DrillStore(engine)
    verification_notifier = SlackVerificationNotifier(slack)
    verification = VerificationWork(
        core, store, references, verification_notifier, verification_timing(settings.poll_seconds)
    )
    drill = DrillWork(core, drill_store, references, timedelta(seconds=settings.poll_seconds))
    drill_results = DrillResults(drill_store, SlackDrillNotifier(slack, settings.oncall), core.notify_channel)
    return DrillFeature(
        Verifications(core, store, wake),
        Drills(core, drill_store, settings.drill_sample, settings.max_drills, wake),
        (WorkKind(VERIFICATION, verification), WorkKind(DRILL, drill)),
        {VERIFICATION: VerificationResults(store, verification_notifier), DRILL: drill_results},
    )
