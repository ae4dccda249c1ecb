"""ScheduleNotifier implemented with chat.postMessage (the Slack client honours 429 Retry-After), once per channel."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.background.notes import Delivery, NoteStamp
from bot.schedules.models import Digest, RunReport
from handlers.kit.delivery import deliver_message
from handlers.schedules import blocks as schedule_blocks


class SlackScheduleNotifier:
    """Posts run messages and the digest, each carrying its note's stamp (bot.background.notes)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def run_report(self, report: RunReport, stamp: NoteStamp) -> Delivery:
        """A run's message."""
        return deliver_message(self._client, schedule_blocks.run_report(report), stamp)

    def digest(self, digest: Digest, stamp: NoteStamp) -> Delivery:
        """The daily digest."""
        return deliver_message(self._client, schedule_blocks.digest_message(digest), stamp)
