"""Builds verification and drills: the export references the tracker records, their stores, and the background
runners reporting to Slack."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.core import Core
from bot.drills.runner import DrillRunner
from bot.drills.service import Drills
from bot.drills.store import DrillStore
from bot.exports.reference import ReferenceStore
from bot.settings import Settings
from bot.verification.runner import VerificationRunner, VerificationTiming
from bot.verification.service import Verifications
from bot.verification.store import VerificationStore
from handlers.drills.notifier import SlackDrillNotifier
from handlers.verification.notifier import SlackVerificationNotifier

PROGRESS_SECONDS = 10.0
STALE_AFTER_INTERVALS = 10
MIN_STALE_SECONDS = 6.0


@dataclass(frozen=True)
class DrillFeature:
    """The use cases (for the Slack surface) and the runner (a background job)."""

    verifications: Verifications
    runner: VerificationRunner
    drills: Drills
    drill_runner: DrillRunner


def verification_timing(poll_seconds: float) -> VerificationTiming:
    """Look for work every DDBBOT_POLL_SECONDS; a claim is stale after 10 polls (at least 6 s); progress at most
    every 10 s."""
    return VerificationTiming(
        interval=poll_seconds,
        stale_after=timedelta(seconds=max(poll_seconds * STALE_AFTER_INTERVALS, MIN_STALE_SECONDS)),
        progress_seconds=min(PROGRESS_SECONDS, poll_seconds * 2),
    )


def build_drills(
    settings: Settings, engine: Engine, core: Core, slack: WebClient, references: ReferenceStore
) -> DrillFeature:
    """Queuing a verification (a drill) wakes its runner."""
    store, drill_store = VerificationStore(engine), DrillStore(engine)
    timing = verification_timing(settings.poll_seconds)
    wake, drill_wake = threading.Event(), threading.Event()
    runner = VerificationRunner(core, store, references, SlackVerificationNotifier(slack), timing, wake=wake)
    drill_runner = DrillRunner(
        core, drill_store, references, SlackDrillNotifier(slack, settings.oncall), timing, wake=drill_wake
    )
    drills = Drills(core, drill_store, settings.drill_sample, settings.max_drills, drill_wake.set)
    return DrillFeature(Verifications(core, store, wake.set), runner, drills, drill_runner)
