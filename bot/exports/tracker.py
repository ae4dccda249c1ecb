"""Follows unfinished exports to the end; finishing one owes its result, which bot.exports.results posts once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.background.periodic import PeriodicJob
from bot.core import Core
from bot.exports.status import refresh_exports

logger = logging.getLogger(__name__)
KEPT_REPORTS = 16


@dataclass(frozen=True)
class CycleReport:
    """What one tracker cycle did."""

    checked: int
    finished: int
    errors: int


class ExportTracker:
    """Polls DescribeExport for every unfinished export every `interval` seconds, off the request path."""

    def __init__(self, core: Core, interval: float, *, on_finished: Callable[[], None] = lambda: None) -> None:
        """`on_finished` is told when a cycle finished exports (their results are owed: the work runner posts them)."""
        self._core = core
        self._on_finished = on_finished
        self._job = PeriodicJob("export-tracker", interval, self.run_cycle)
        self._cycled = threading.Condition()
        self._cycles: list[tuple[int, CycleReport]] = []  # the last few, numbered

    def run_cycle(self) -> CycleReport:
        """Refresh every unfinished export (a finished one owes its result, in the same transaction)."""
        unfinished = self._core.store.unfinished_exports()
        finished, errors = refresh_exports(self._core, unfinished)
        if finished:
            self._on_finished()
        report = CycleReport(len(unfinished), finished, errors)
        with self._cycled:
            number = self._cycles[-1][0] + 1 if self._cycles else 1
            self._cycles = [*self._cycles[-(KEPT_REPORTS - 1) :], (number, report)]
            self._cycled.notify_all()
        return report

    def wait_for_cycle(self, done: Callable[[CycleReport], bool], timeout: float) -> CycleReport | None:
        """Wait for the next cycle whose report satisfies `done` (None after `timeout` seconds): what proves the
        tracker has looked at the exports, for diagnostics and tests."""
        deadline = time.monotonic() + timeout
        with self._cycled:
            seen = self._cycles[-1][0] if self._cycles else 0
            while True:
                for number, report in self._cycles:
                    if number > seen and done(report):
                        return report
                seen = self._cycles[-1][0] if self._cycles else 0
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cycled.wait(remaining)

    def poke(self) -> None:
        """Run a cycle soon (after an export starts) instead of waiting for the interval."""
        self._job.poke()

    def start(self) -> None:
        """Run cycles in a daemon thread until stop()."""
        self._job.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current cycle."""
        self._job.stop(timeout)
