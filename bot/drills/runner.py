"""Runs queued drills in the background: each claimed by one runner, heartbeated while it verifies, imports and
compares, and resumed by the next runner after a restart (a recorded import is followed, not started again)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Protocol

from bot.background.periodic import PeriodicJob
from bot.core import Core
from bot.drills.drill import DrillContext, run_drill
from bot.drills.models import Drill, DrillResult
from bot.drills.store import DrillStore
from bot.exports.reference import ReferenceStore
from bot.logs import log_context
from bot.verification.runner import VerificationTiming
from bot.verification.stream import Halted

logger = logging.getLogger(__name__)


class DrillNotifier(Protocol):
    """Where a drill's result goes."""

    def drill_finished(self, drill: Drill, channels: list[str]) -> None:
        """Post the result to each channel."""
        ...


class DrillRunner:
    """Background job (start/stop): claims active drills and runs them one after another."""

    def __init__(
        self,
        core: Core,
        store: DrillStore,
        references: ReferenceStore,
        notifier: DrillNotifier,
        timing: VerificationTiming,
        *,
        wake: threading.Event | None = None,
    ) -> None:
        self._core = core
        self._store = store
        self._references = references
        self._notifier = notifier
        self._timing = timing
        self.runner_id = f"drill-{uuid.uuid4().hex[:12]}"
        self._job = PeriodicJob("drills", timing.interval, self.run_cycle, wake)

    def start(self) -> None:
        """Run cycles in a daemon thread until stop()."""
        self._job.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop: a drill in progress halts and gives its claim back (its table is left for the next runner)."""
        self._job.stop(timeout)

    def run_cycle(self) -> int:
        """Run every active drill this runner can claim; how many finished."""
        done = 0
        for drill in self._store.active():
            if self._job.stopping.is_set():
                break
            if self._store.claim(drill.id, self.runner_id, self._timing.stale_after):
                with log_context(drill_id=drill.id, table=drill.spec.table_key):
                    done += self._run(self._store.get(drill.id) or drill)
        return done

    def _run(self, drill: Drill) -> bool:
        halt = threading.Event()
        try:
            result = run_drill(drill, self._context(drill, halt))
        except Halted:
            if self._job.stopping.is_set():
                self._store.release(drill.id, self.runner_id)
            return False
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("drill failed unexpectedly reference=%s", reference)
            result = DrillResult(failure=f"something went wrong on the bot's side (reference {reference})")
        finished = self._store.finish(drill.id, self.runner_id, result)
        if finished is None:
            logger.warning("drill finished after its claim was taken; its result was not recorded")
            return False
        channels = list(dict.fromkeys(c for c in (finished.channel_id, self._core.notify_channel) if c))
        try:
            self._notifier.drill_finished(finished, channels)
        except Exception:
            logger.exception("could not post the result of drill=%s", drill.id)
        return True

    def _context(self, drill: Drill, halt: threading.Event) -> DrillContext:
        last = [time.monotonic()]

        def heartbeat(**also: str) -> None:
            if self._job.stopping.is_set():
                halt.set()
            if not also and time.monotonic() - last[0] < self._timing.heartbeat_seconds:
                return
            last[0] = time.monotonic()
            try:
                if not self._store.heartbeat(drill.id, self.runner_id, **also):
                    halt.set()
            except Exception:
                logger.exception("drill heartbeat failed; trying again")

        def wait() -> None:
            self._job.stopping.wait(self._timing.interval)

        return DrillContext(self._core, self._references, halt, heartbeat, wait, self._core.clock)
