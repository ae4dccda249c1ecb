"""Every call to Slack under one retry policy: Web API calls and response_url posts alike honour 429 Retry-After.

Bolt's `respond()` builds a bare WebhookClient that only retries dropped connections: under a burst a command's
answer would be lost. `install_patient_respond` gives every listener a `respond` whose WebhookClient follows the
same policy as the bot's WebClient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.metrics import SLACK_CALLS, SLACK_RATE_LIMITED

RATE_LIMIT_RETRIES = 10
SERVER_ERROR_RETRIES = 3
CONNECTION_RETRIES = 3
TIMEOUT_SECONDS = 15
HTTP_TOO_MANY_REQUESTS = 429


class CountedRateLimitHandler(RateLimitErrorRetryHandler):
    """Slack's own 429 handler (waits Retry-After), counting every 429 answer by method for the metrics."""

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == HTTP_TOO_MANY_REQUESTS:
            SLACK_RATE_LIMITED.labels(method_of(request.url)).inc()
        return super().can_retry(state=state, request=request, response=response, error=error)


class MeteredWebClient(WebClient):
    """The WebClient, counting every Web API call by method and result (ok, or Slack's error code)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            SLACK_CALLS.labels(api_method, str(error.response.get("error") or "error")[:64]).inc()
            raise
        except Exception:
            SLACK_CALLS.labels(api_method, "unreachable").inc()
            raise
        SLACK_CALLS.labels(api_method, "ok").inc()
        return response


def method_of(url: str) -> str:
    """`chat.postMessage` from `https://slack.com/api/chat.postMessage`; `response_url` for webhooks."""
    path = urlsplit(url).path
    return path.rsplit("/", 1)[-1] if "/api/" in path else "response_url"


def retry_handlers() -> list[RetryHandler]:
    """The one policy: wait out 429 Retry-After, retry server errors and dropped connections a few times."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        CountedRateLimitHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def slack_client(token: str, base_url: str) -> WebClient:
    """The bot's WebClient (every Web API call) under the retry policy, metered."""
    return MeteredWebClient(token=token, base_url=base_url, timeout=TIMEOUT_SECONDS, retry_handlers=retry_handlers())


def webhook(url: str, **kwargs: Any) -> WebhookClient:
    """A WebhookClient (response_url, incoming webhook) under the retry policy."""
    return WebhookClient(url=url, retry_handlers=retry_handlers(), timeout=TIMEOUT_SECONDS, **kwargs)


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
            return _counted(client.send_dict(response_body(**text)))
        body = response_body(
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
        return _counted(client.send_dict(body))


def _counted(response: WebhookResponse) -> WebhookResponse:
    SLACK_CALLS.labels("response_url", "ok" if response.status_code == 200 else str(response.status_code)).inc()
    return response


def response_body(text: str = "", **fields: Any) -> dict[str, Any]:
    """A response_url body as Bolt's `respond` builds it: `text`, plus every field given (empty lists left out)."""
    body: dict[str, Any] = {"text": text}
    for name, value in fields.items():
        if value is None or (name in {"blocks", "attachments"} and not value):
            continue
        body[name] = list(value) if name in {"blocks", "attachments"} else value
    return body


def install_patient_respond(app: App) -> None:
    """Give every listener of the app a `respond` under the retry policy (installed where the app is created)."""

    def patient_respond(context: BoltContext, next_: Callable[[], None]) -> None:
        if context.response_url:
            context["respond"] = PatientRespond(response_url=context.response_url)
        next_()

    app.middleware(patient_respond)
