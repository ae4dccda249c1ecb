"""Builds the claimed-work engine of one replica: the claims store, the keeper that heartbeats its claims, the desk
that runs a fire in the caller's thread, and (once every feature is built) the work runner over every kind."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from bot.background.claims import ClaimStore
from bot.background.fence import ClaimKeeper, Steps, no_steps
from bot.background.targets import TargetStore
from bot.background.work import WorkDesk, WorkKind, WorkRunner, WorkTiming
from bot.db import DatabaseClock
from bot.settings import Settings

STALE_AFTER_POLLS = 10
MIN_STALE_SECONDS = 6.0  # a claim is fenced after half of this without a heartbeat: room for a loaded host


def stale_after(settings: Settings) -> timedelta:
    """DDBBOT_WORK_STALE_SECONDS, else 10 polls (at least 6 s): heartbeats come every sixth of it, a holder that
    cannot heartbeat stops after half of it, and another replica takes its work over after all of it."""
    seconds = settings.work_stale_seconds or max(settings.poll_seconds * STALE_AFTER_POLLS, MIN_STALE_SECONDS)
    return timedelta(seconds=seconds)


@dataclass
class WorkEngine:
    """One replica's claimed-work parts; `wake` makes the runner look for work at once."""

    keeper: ClaimKeeper
    desk: WorkDesk
    timing: WorkTiming
    targets: TargetStore  # the targets of fanned-out work (a fire's tables, a message's channels)
    wake: threading.Event = field(default_factory=threading.Event)

    @property
    def claims(self) -> ClaimStore:
        """The claims store."""
        return self.keeper.store

    def runner(self, kinds: Sequence[WorkKind], on_cycle: Sequence[Callable[[], object]] = ()) -> WorkRunner:
        """The work runner over every kind (a background job)."""
        return WorkRunner(self.keeper, kinds, self.timing, wake=self.wake, on_cycle=on_cycle)


def work_engine(
    settings: Settings,
    engine: Engine,
    holder: str,
    *,
    clock: DatabaseClock | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    steps: Steps = no_steps,
) -> WorkEngine:
    """Claims on the database's clock (`clock`: tests give a settable one), taken at most DDBBOT_WORK_MAX_ATTEMPTS
    times; `steps` is where tests stop a worker dead (a no-op otherwise)."""
    claims = ClaimStore(engine, stale_after=stale_after(settings), max_attempts=settings.work_max_attempts, clock=clock)
    keeper = ClaimKeeper(claims, holder, monotonic=monotonic, steps=steps)
    timing = WorkTiming(interval=settings.poll_seconds, first_retry=timedelta(seconds=settings.poll_seconds))
    targets = TargetStore(engine, max_attempts=claims.max_attempts, retry_after=timing.retry_after, clock=claims.clock)
    wake = threading.Event()
    return WorkEngine(keeper, WorkDesk(keeper, timing, wake.set), timing, targets, wake)
