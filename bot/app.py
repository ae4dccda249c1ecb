"""create_app(services) → the Bolt App with every listener; create_wsgi adds /healthz beside /slack/events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.db import ping
from handlers import commands
from handlers.commands import Surface

if TYPE_CHECKING:
    from bot.bootstrap import Services

LISTENER_THREADS = 64


def create_app(services: Services) -> App:
    """The Bolt App: signature checks on, listeners run after their ack in a wide thread pool."""
    settings = services.settings
    app = App(
        client=services.slack,
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
        request_verification_enabled=not settings.socket_mode,
    )
    commands.register(app, Surface(services.core, services.authorizer, services.tracker))
    for extra in services.extra_registrations:
        extra(app)
    return app


def create_wsgi(app: App, services: Services) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """The WSGI application served in HTTP mode."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in {"GET", "HEAD"}:
            healthy = ping(services.engine)
            start_response(
                "200 OK" if healthy else "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8")],
            )
            return [b"ok\n" if healthy else b"database unreachable\n"]
        return slack(environ, start_response)

    return wsgi


def slack_client(token: str, base_url: str) -> WebClient:
    """A WebClient that honours 429 Retry-After and retries connection and server errors."""
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )

    client = WebClient(token=token, base_url=base_url, timeout=15)
    client.retry_handlers.extend(
        [
            RateLimitErrorRetryHandler(max_retry_count=10),
            ServerErrorRetryHandler(max_retry_count=3),
        ]
    )
    if not any(isinstance(h, ConnectionErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=3))
    return client
