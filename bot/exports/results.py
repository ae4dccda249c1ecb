"""Posts each finished export's result, once to each of its channels, as a note (bot.background.notes): the export's
row owes it from the moment the tracker records the export finished, in the same transaction, so no crash can lose
it; each channel is delivered on its own, so one that refuses neither holds back nor repeats the others."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection

from bot.background.notes import Delivery, NoteStamp, delivered
from bot.core import Core
from bot.costs import export_price
from bot.exports.notify import ExportNotifier
from bot.exports.reference import ReferenceStore, record_reference
from bot.logs import log_context
from bot.models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)
TOPIC = "export"


class ExportResults:
    """The `export` notes' poster: the result to the channels it belongs in; on-call named when a scheduled export
    failed. `references` keeps each completed export's manifests, for later verifications."""

    def __init__(
        self,
        core: Core,
        notifier: ExportNotifier,
        *,
        schedule_channel: Callable[[str], str | None] | None = None,
        oncall: str | None = None,
        references: ReferenceStore | None = None,
    ) -> None:
        """`schedule_channel` gives a schedule's own channel by schedule id."""
        self._core = core
        self._notifier = notifier
        self._schedule_channel = schedule_channel
        self._oncall = oncall
        self._references = references

    def targets(self, subject: str) -> list[str]:
        """The channels of the export whose ARN is `subject`; none while it runs (a note from a row that changed)."""
        job = self._core.store.get_export(subject)
        if job is None or job.status == ExportStatus.IN_PROGRESS:
            return []
        return self.channels_for(job)

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        """Post the result of the export whose ARN is `subject` to one of its channels."""
        job = self._core.store.get_export(subject)
        if job is None:
            return delivered()  # gone since: nothing to say
        with log_context(export_id=job.export_id, table=job.table_key, schedule_id=job.schedule_id):
            mention = self._oncall if job.schedule_id and job.status == ExportStatus.FAILED else None
            price = export_price(self._core, job)
            delivery = self._notifier.export_finished(job, price, stamp, mention=mention)
            if self._references is not None and delivery.delivered:  # after posting, so no result waits for S3
                record_reference(self._core, self._references, job)
        return delivery

    def scheduled(self, subject: str) -> bool:
        """A schedule's export: on-call is told when its result does not reach a channel."""
        job = self._core.store.get_export(subject)
        return job is not None and job.schedule_id is not None

    def posted(self, subject: str, connection: Connection) -> None:
        """Mark the export's result posted."""
        self._core.store.result_posted(connection, subject)

    def channels_for(self, job: ExportJob) -> list[str]:
        """The channel it was asked in, then the notification channel, without repeats; a scheduled export goes
        to its schedule's channel, else the notification channel."""
        if job.schedule_id and self._schedule_channel is not None:
            channel = self._schedule_channel(job.schedule_id) or self._core.notify_channel
            return [channel] if channel else []
        channels = [c for c in (job.channel_id, self._core.notify_channel) if c]
        return list(dict.fromkeys(channels))
