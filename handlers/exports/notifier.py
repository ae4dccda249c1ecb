"""ExportNotifier with Slack's Web API: an export's result to its channels, through response_url where the bot is
no member of the channel it was asked in."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk import WebClient

from bot.background.notes import Delivery, NoteStamp
from bot.models import ExportJob
from bot.money import ExportPrice
from bot.timefmt import utcnow
from handlers.exports import blocks
from handlers.kit.blocks import Message, oncall_section
from handlers.kit.delivery import deliver_message
from handlers.kit.http import webhook

RESPONSE_URL_LIFETIME = timedelta(minutes=30)


class SlackNotifier:
    """ExportNotifier that posts with chat.postMessage; falls back to response_url where the bot is no member."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def export_finished(
        self, job: ExportJob, price: ExportPrice, stamp: NoteStamp, mention: str | None = None
    ) -> Delivery:
        """Post the result to one channel, once (the requester's response_url where the bot is no member)."""
        message = blocks.export_finished(job, price.cost, price.basis)
        if mention:
            message = oncall_section(message, mention)

        def fallback() -> bool:
            return stamp.target == job.channel_id and self._via_response_url(job, message)

        return deliver_message(self._client, message, stamp, fallback=fallback)

    def _via_response_url(self, job: ExportJob, message: Message) -> bool:
        fresh = job.created_at is not None and utcnow() - job.created_at < RESPONSE_URL_LIFETIME
        if not job.response_url or not fresh:
            return False
        response = webhook(job.response_url).send(
            text=message["text"], blocks=message["blocks"], response_type="ephemeral"
        )
        return response.status_code == 200
