"""What the running bot is made of: every service, built once by bootstrap, read by the app and the runtime."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.authz import Authorizer
from bot.background.work import WorkRunner
from bot.catalog.service import Catalogue
from bot.controls.service import ControlsBoard
from bot.core import Core
from bot.coverage.survey import CoverageSurvey
from bot.drills.service import Drills
from bot.exports.tracker import ExportTracker
from bot.recovery.service import Recoveries
from bot.restores.control import RestoreControl
from bot.restores.workflow import Restores
from bot.retention.deletions import Deletions
from bot.schedules.service import ScheduleCore
from bot.settings import Settings
from bot.verification.service import Verifications
from bot.wiring.health import Health
from handlers.home.publisher import HomePublisher


class Background(Protocol):
    """A job that runs beside the HTTP server (the leader gate, the restore runner)."""

    def start(self) -> None:
        """Start in a daemon thread."""
        ...

    def stop(self, timeout: float = 10.0) -> None:
        """Stop and wait up to `timeout` seconds."""
        ...


@dataclass(frozen=True)
class Services:
    """Everything the bot runs with; `background` starts in order and stops in reverse; `work` runs the slash
    commands' work after their ack and is shut down when the bot stops."""

    settings: Settings
    engine: Engine
    core: Core
    slack: WebClient
    authorizer: Authorizer
    tracker: ExportTracker
    restores: Restores
    restore_control: RestoreControl
    recoveries: Recoveries
    work_runner: WorkRunner
    schedules: ScheduleCore
    verifications: Verifications
    drills: Drills
    coverage: CoverageSurvey
    controls: ControlsBoard  # the controls of the latest coverage survey (/ddb-coverage, /ddb-report, Home)
    catalogue: Catalogue
    deletions: Deletions
    home: HomePublisher
    work: ThreadPoolExecutor
    background: tuple[Background, ...]
    health: Health  # Slack and AWS still answering, and the warnings, for /readyz
