"""Stopping a worker dead at a named step of claimed work, and replicas sharing one database to take over.

`CrashAt` is the work's `steps` hook (bot.background.fence): at its step it raises `Crash`, a BaseException, so no
`except Exception` in the code under test can swallow it and no cleanup runs (no release, no record): what a killed
process leaves. Each replica is the bot's own wiring (bootstrap) on the shared database, its claims read from one
settable database clock the test moves past the stale period to let another replica take over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from bot.background.claims import Claim, ClaimStore, work_claims
from bot.background.fence import no_steps
from bot.background.notes import NOTE
from bot.db import database_now
from bot.demo.slack_standin import SlackStandIn
from bot.wiring.bootstrap import build_services
from bot.wiring.services import Services
from bot.wiring.work import stale_after
from tests.integration.conftest import bot_settings
from tests.support.clocks import SettableDatabaseClock

FOREVER = 1_000_000


class Crash(BaseException):
    """The worker died here."""


class CrashAt:
    """Raise Crash the first `times` times work of `kind` passes `step`."""

    def __init__(self, kind: str, step: str, times: int = 1) -> None:
        self.kind = kind
        self.step = step
        self.left = times
        self.crashed = 0
        self._lock = threading.Lock()

    def __call__(self, kind: str, step: str) -> None:
        with self._lock:
            if (kind, step) != (self.kind, self.step) or self.left <= 0:
                return
            self.left -= 1
            self.crashed += 1
        raise Crash(step)


@dataclass
class Cluster:
    """Replicas of the bot on one database (built, not started: the test runs their work), one database clock."""

    url: str
    slack: SlackStandIn
    tmp_path: Path
    settings: dict[str, Any] = field(default_factory=dict)
    clock: SettableDatabaseClock = field(default_factory=SettableDatabaseClock)
    built: list[Services] = field(default_factory=list)

    def replica(self, crash: Callable[[str, str], None] | None = None, **overrides: Any) -> Services:
        """A fresh replica: its own engine, claims keeper and work runner; `crash` its steps hook."""
        values = {"database_url": self.url, **self.settings, **overrides}
        settings = bot_settings(self.tmp_path, self.slack, **values)
        services = build_services(settings, database_clock=self.clock, work_steps=crash or no_steps)
        self.built.append(services)
        return services

    def stale(self) -> None:
        """Move the database's clock past the stale period: every claim of a dead replica may be taken over."""
        settings = self.built[0].settings if self.built else bot_settings(self.tmp_path, self.slack)
        self.clock.advance(seconds=stale_after(settings).total_seconds() + 1)

    def close(self) -> None:
        for services in self.built:
            services.engine.dispose()


def die_and_take_over(cluster: Cluster, dying: Services, kind: str, **overrides: Any) -> Services:
    """`dying` runs the work of `kind` and dies at its step; a fresh replica leaves the live claim alone, takes it
    over once it is stale, runs it, and posts what is owed. The taker is returned."""
    with pytest.raises(Crash):
        dying.work_runner.run_pending([kind])
    taker = cluster.replica(**overrides)
    assert taker.work_runner.run_pending([kind]) == 0, "a live claim is not taken over"
    cluster.stale()
    assert taker.work_runner.run_pending([kind]) == 1
    taker.work_runner.run_pending([NOTE])
    return taker


def abandon(engine: Engine, kind: str, key: str) -> Claim:
    """A replica claimed the work, then died an hour ago: its claim is held, its last heartbeat an hour old by the
    database's clock, so any replica may take it over now."""
    claims = ClaimStore(engine, stale_after=timedelta(minutes=5), max_attempts=5)
    claim = claims.claim(kind, key, "replica-that-died")
    assert claim is not None, f"{kind}:{key} could not be claimed"
    with engine.begin() as connection:
        connection.execute(
            update(work_claims)
            .where(work_claims.c.kind == kind, work_claims.c.key == key)
            .values(heartbeat_at=database_now(connection) - timedelta(hours=1))
        )
    return claim
