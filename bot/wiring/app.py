"""create_app(services) → the Bolt App with every listener; create_wsgi adds /healthz beside /slack/events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.metrics import ACK_SECONDS
from bot.wiring.operations import PATHS, WsgiApp
from bot.wiring.services import Services
from handlers import commands
from handlers.commands import Surface
from handlers.restores import actions as restore_actions
from handlers.restores import commands as restore_commands
from handlers.restores.commands import RestoreSurface
from handlers.schedules import commands as schedule_commands
from handlers.slack_http import install_patient_respond

LISTENER_THREADS = 64


def create_app(services: Services) -> App:
    """The Bolt App: signature checks on, every answer under the retry policy, listeners run after their ack in a
    wide thread pool."""
    settings = services.settings
    app = App(
        client=services.slack,
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
        request_verification_enabled=not settings.socket_mode,
    )
    install_patient_respond(app)
    surface = Surface(services.core, services.authorizer, services.tracker)
    commands.register(app, surface)
    restore_surface = RestoreSurface(surface, services.restores)
    restore_commands.register(app, restore_surface)
    restore_actions.register(app, restore_surface)
    schedule_commands.register(app, surface, services.schedules)
    return app


def create_wsgi(app: App, operations: WsgiApp) -> WsgiApp:
    """The WSGI application served in HTTP mode: Slack's requests (timed: the answer is Slack's acknowledgement)
    at /slack/events, and /healthz, /readyz, /metrics beside them."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") in PATHS:
            return operations(environ, start_response)
        started = time.monotonic()
        try:
            return slack(environ, start_response)
        finally:
            if environ.get("PATH_INFO") == "/slack/events":
                ACK_SECONDS.observe(time.monotonic() - started)

    return wsgi
