"""Retry-After on every call to Slack, response_url posts included.

The bot's WebClient retries 429s (bot/app.py), but Bolt's `respond()` builds a bare WebhookClient that only retries
connection errors: under a burst, a command's answer would be lost. This middleware gives every listener a
`respond` whose WebhookClient honours 429 Retry-After and retries server errors like the WebClient does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient, WebhookResponse

RATE_LIMIT_RETRIES = 10


def retry_handlers() -> list[RetryHandler]:
    """The same policy as the bot's WebClient: 429 Retry-After, server errors, dropped connections."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=3),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=3),
    ]


def webhook(url: str, **kwargs: Any) -> WebhookClient:
    """A WebhookClient (response_url, incoming webhook) that honours 429 Retry-After."""
    return WebhookClient(url=url, retry_handlers=retry_handlers(), timeout=15, **kwargs)


class PatientRespond(Respond):
    """Bolt's `respond`, with a WebhookClient that waits out 429s instead of dropping the answer."""

    def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[Any] | None = None,
        attachments: Sequence[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        client = webhook(self.response_url, proxy=self.proxy, ssl=self.ssl)
        if isinstance(text, dict):
            return client.send_dict(_build_message(**text))
        body = _build_message(
            text=text,
            blocks=blocks,
            attachments=attachments,
            response_type=response_type,
            replace_original=replace_original,
            delete_original=delete_original,
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
            thread_ts=thread_ts,
            metadata=metadata,
        )
        return client.send_dict(body)


def register(app: App) -> None:
    """Install the middleware on every request of the app."""

    def patient_respond(context: BoltContext, next_: Callable[[], None]) -> None:
        if context.response_url:
            context["respond"] = PatientRespond(response_url=context.response_url)
        next_()

    app.middleware(patient_respond)
