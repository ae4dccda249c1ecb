"""Builds verification: the export references the tracker records, the verification store, and the background
runner reporting to Slack."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.core import Core
from bot.drills.runner import VerificationRunner, VerificationTiming
from bot.drills.service import Verifications
from bot.drills.store import VerificationStore
from bot.exports.reference import ReferenceStore
from bot.settings import Settings
from handlers.drills.notifier import SlackVerificationNotifier

PROGRESS_SECONDS = 10.0
STALE_AFTER_INTERVALS = 10
MIN_STALE_SECONDS = 6.0


@dataclass(frozen=True)
class DrillFeature:
    """The use cases (for the Slack surface) and the runner (a background job)."""

    verifications: Verifications
    runner: VerificationRunner


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
    """Queuing a verification wakes the runner."""
    store = VerificationStore(engine)
    wake = threading.Event()
    runner = VerificationRunner(
        core, store, references, SlackVerificationNotifier(slack), verification_timing(settings.poll_seconds), wake=wake
    )
    return DrillFeature(Verifications(core, store, wake.set), runner)
