"""Follows unfinished exports to the end and posts each result once, even across restarts."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.background.periodic import PeriodicJob
from bot.core import Core
from bot.costs import export_price
from bot.exports.notify import ExportNotifier
from bot.exports.reference import ReferenceStore, record_reference
from bot.exports.status import refresh_exports
from bot.logs import log_context
from bot.models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)
KEPT_REPORTS = 16


@dataclass(frozen=True)
class CycleReport:
    """What one tracker cycle did."""

    checked: int
    finished: int
    notified: int
    errors: int


class ExportTracker:
    """Polls DescribeExport for every unfinished export every `interval` seconds, off the request path."""

    def __init__(
        self,
        core: Core,
        notifier: ExportNotifier,
        interval: float,
        *,
        schedule_channel: Callable[[str], str | None] | None = None,
        oncall: str | None = None,
        references: ReferenceStore | None = None,
    ) -> None:
        """`schedule_channel` gives a schedule's own channel by schedule id; `oncall` is mentioned when a scheduled
        export fails; `references` keeps each completed export's manifests, for later verifications."""
        self._core = core
        self._notifier = notifier
        self._schedule_channel = schedule_channel
        self._oncall = oncall
        self._references = references
        self._job = PeriodicJob("export-tracker", interval, self.run_cycle)
        self._cycled = threading.Condition()
        self._cycles: list[tuple[int, CycleReport]] = []  # the last few, numbered

    def run_cycle(self) -> CycleReport:
        """Refresh every unfinished export, then post every result not yet posted."""
        unfinished = self._core.store.unfinished_exports()
        finished, errors = refresh_exports(self._core, unfinished)
        checked = len(unfinished)
        notified = sum(self._deliver(job) for job in self._core.store.pending_notifications())
        report = CycleReport(checked, finished, notified, errors)
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

    def _deliver(self, job: ExportJob) -> bool:
        with log_context(export_id=job.export_id, table=job.table_key, schedule_id=job.schedule_id):
            return self._deliver_once(job)

    def _deliver_once(self, job: ExportJob) -> bool:
        claim = self._core.store.claim_notification(job.export_arn)
        if claim is None:
            return False
        delivered = False
        try:
            price, channels = export_price(self._core, job), self.channels_for(job)
            if job.schedule_id and job.status == ExportStatus.FAILED and self._oncall:
                delivered = self._notifier.export_finished(job, price, channels, mention=self._oncall)
            else:
                delivered = self._notifier.export_finished(job, price, channels)
        except Exception:
            logger.exception("tracker: could not post result of export_id=%s", job.export_id)
        finally:
            if not self._core.store.settle_notification(job.export_arn, claim, delivered=delivered):
                logger.warning("tracker: the result of export_id=%s was reclaimed while being posted", job.export_id)
        if self._references is not None:  # by the poster that held the claim; after posting, so no result waits
            record_reference(self._core, self._references, job)
        return delivered

    def channels_for(self, job: ExportJob) -> list[str]:
        """The channel it was asked in, then the notification channel, without repeats; a scheduled export goes
        to its schedule's channel, else the notification channel."""
        if job.schedule_id and self._schedule_channel is not None:
            channel = self._schedule_channel(job.schedule_id) or self._core.notify_channel
            return [channel] if channel else []
        channels = [c for c in (job.channel_id, self._core.notify_channel) if c]
        return list(dict.fromkeys(channels))
