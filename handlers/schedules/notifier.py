"""ScheduleNotifier implemented with chat.postMessage (the Slack client honours 429 Retry-After)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.schedules.models import Digest, RunReport
from handlers.kit.blocks import Message
from handlers.kit.slack_port import post_message
from handlers.schedules import blocks as schedule_blocks

logger = logging.getLogger(__name__)


class SlackScheduleNotifier:
    """Posts run messages and the digest; a refusal that retrying cannot fix is logged and dropped."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def run_report(self, report: RunReport, channel: str) -> bool:
        """A run's message."""
        return self._post(channel, schedule_blocks.run_report(report))

    def digest(self, digest: Digest, channel: str) -> bool:
        """The daily digest."""
        return self._post(channel, schedule_blocks.digest_message(digest))

    def _post(self, channel: str, message: Message) -> bool:
        return post_message(self._client, channel, message, "schedules")
