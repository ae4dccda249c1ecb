"""ExportNotifier with Slack's Web API: an export's result to its channels, through response_url where the bot is
no member of the channel it was asked in."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk import WebClient

from bot.models import ExportJob
from bot.money import ExportPrice
from bot.timefmt import utcnow
from handlers.exports import blocks
from handlers.kit.blocks import Message, oncall_section
from handlers.kit.http import webhook
from handlers.kit.slack_port import post_message

RESPONSE_URL_LIFETIME = timedelta(minutes=30)


class SlackNotifier:
    """ExportNotifier that posts with chat.postMessage; falls back to response_url where the bot is no member."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def export_finished(
        self, job: ExportJob, price: ExportPrice, channels: list[str], mention: str | None = None
    ) -> bool:
        """Post the result to each channel; False when a retryable failure should be tried again."""
        message = blocks.export_finished(job, price.cost, price.basis)
        if mention:
            message = oncall_section(message, mention)
        delivered = [self._post(channel, message, job) for channel in channels]  # every channel, no short-circuit
        return all(delivered)

    def _post(self, channel: str, message: Message, job: ExportJob) -> bool:
        def fallback() -> bool:
            return channel == job.channel_id and self._via_response_url(job, message)

        return post_message(self._client, channel, message, "notify", fallback)

    def _via_response_url(self, job: ExportJob, message: Message) -> bool:
        fresh = job.created_at is not None and utcnow() - job.created_at < RESPONSE_URL_LIFETIME
        if not job.response_url or not fresh:
            return False
        response = webhook(job.response_url).send(
            text=message["text"], blocks=message["blocks"], response_type="ephemeral"
        )
        return response.status_code == 200
