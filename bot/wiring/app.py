"""create_app(services) → the Bolt App with every listener; create_wsgi serves it at /slack/events beside /healthz
(/readyz and /metrics are on the metrics port only), refuses a body larger than Slack sends (413) or not signed by
Slack (401) before reading it as anything, and answers 400 for a signed body Bolt cannot read, where Bolt answered
500."""

from __future__ import annotations

import functools
import io
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_sdk.signature import SignatureVerifier

from bot.drills.service import last_drill
from bot.limits import SLACK_MAX_BODY
from bot.metrics import ACK_SECONDS
from bot.verification.service import last_verification
from bot.wiring.operations import SLACK_PORT_PATHS, WsgiApp
from bot.wiring.services import Services
from bot.wiring.slack_bodies import FormRequest, malformed, signed, too_large
from handlers.catalog import commands as catalog_commands
from handlers.catalog.parsing import HELP as CATALOG_HELP
from handlers.controls import commands as report_commands
from handlers.controls.parsing import REPORT_HELP
from handlers.costs import commands as cost_commands
from handlers.costs.parsing import COST_HELP
from handlers.coverage import actions as coverage_actions
from handlers.coverage import commands as coverage_commands
from handlers.coverage.parsing import HELP as COVERAGE_HELP
from handlers.drills import commands as drill_commands
from handlers.drills.parsing import DRILL_HELP
from handlers.exports import commands as export_commands
from handlers.exports.parsing import EXPORT_HELP, STATUS_HELP
from handlers.help import commands as help_commands
from handlers.home import events as home_events
from handlers.kit.commands import Surface
from handlers.kit.http import install_patient_respond
from handlers.kit.parsing import CommandHelp
from handlers.pitr import commands as pitr_commands
from handlers.pitr.parsing import PITR_HELP
from handlers.recovery import actions as recovery_actions
from handlers.recovery import commands as recovery_commands
from handlers.recovery.commands import RecoverySurface
from handlers.recovery.parsing import ITEM_HELP, RECOVER_HELP, REVERT_HELP
from handlers.restores import actions as restore_actions
from handlers.restores import commands as restore_commands
from handlers.restores.commands import RestoreSurface
from handlers.restores.parsing import RESTORE_HELP
from handlers.retention import actions as retention_actions
from handlers.retention import commands as retention_commands
from handlers.retention.parsing import HELP as RETENTION_HELP
from handlers.schedules import commands as schedule_commands
from handlers.schedules.parsing import HELP as SCHEDULE_HELP
from handlers.verification import commands as verification_commands
from handlers.verification.parsing import VERIFY_HELP

# every command's own help, in the order /ddb-help lists them (a test checks that each registered command is here)
COMMAND_HELPS: tuple[CommandHelp, ...] = (
    PITR_HELP,
    EXPORT_HELP,
    STATUS_HELP,
    CATALOG_HELP,
    RETENTION_HELP,
    COST_HELP,
    COVERAGE_HELP,
    REPORT_HELP,
    RESTORE_HELP,
    SCHEDULE_HELP,
    VERIFY_HELP,
    DRILL_HELP,
    ITEM_HELP,
    RECOVER_HELP,
    REVERT_HELP,
)
LISTENER_THREADS = 64
EVENTS_PATH = "/slack/events"
logger = logging.getLogger(__name__)


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
    surface = Surface(
        services.core,
        services.authorizer,
        services.tracker,
        services.work,
        last_verification=functools.partial(last_verification, services.verifications),
        last_drill=functools.partial(last_drill, services.drills),
        drill_max_age=timedelta(days=settings.drill_max_age_days),
    )
    pitr_commands.register(app, surface)
    export_commands.register(app, surface)
    cost_commands.register(app, surface)
    restore_surface = RestoreSurface(surface, services.restores, services.restore_control, services.catalogue)
    restore_commands.register(app, restore_surface)
    restore_actions.register(app, restore_surface)
    recovery_surface = RecoverySurface(surface, services.recoveries)
    recovery_commands.register(app, recovery_surface)
    recovery_actions.register(app, recovery_surface)
    schedule_commands.register(app, surface, services.schedules)
    verification_commands.register(app, surface, services.verifications)
    drill_commands.register(app, surface, services.drills)
    coverage_commands.register(app, surface, services.coverage, services.controls)
    report_commands.register(app, surface, services.coverage, services.controls, services.slack)
    coverage_actions.register(app, surface, services.coverage, services.schedules)
    catalog_commands.register(app, surface, services.catalogue)
    retention_commands.register(app, surface, services.deletions)
    retention_actions.register(app, services.deletions)
    home_events.register(app, services.home, services.restores)
    help_commands.register(app, surface, COMMAND_HELPS)
    return app


def create_wsgi(app: App, services: Services, operations: WsgiApp) -> WsgiApp:
    """The WSGI application served in HTTP mode: Slack's requests at /slack/events (timed: the answer is Slack's
    acknowledgement; a body Bolt cannot read refused after its signature), and /healthz for the load balancer."""
    slack = _SlackHandler(app, path=EVENTS_PATH)
    secret = services.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret and secret.get_secret_value() else None

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") in SLACK_PORT_PATHS:
            return operations(environ, start_response)
        if environ.get("PATH_INFO") != EVENTS_PATH or environ.get("REQUEST_METHOD") != "POST":
            return slack(environ, start_response)
        started = time.monotonic()
        try:
            return _checked(environ, start_response, slack, verifier)
        finally:
            ACK_SECONDS.observe(time.monotonic() - started)

    return wsgi


class _SlackHandler(SlackRequestHandler):
    """Bolt's WSGI handler, reading form bodies as written (see FormRequest)."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        """Like Bolt's, with FormRequest in place of BoltRequest."""
        bolt_request = FormRequest(body=request.get_body(), query=request.query_string, headers=request.get_headers())
        return self.app.dispatch(bolt_request)


def _checked(
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    slack: _SlackHandler,
    verifier: SignatureVerifier | None,
) -> Iterable[bytes]:
    """Read the body once, and only when it is no larger than any Slack sends (413, unread); refuse it unless Slack
    signed it (401) before reading it as anything; hand Bolt what it can read, refuse the rest with 400 saying why."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0:
        return _answer(start_response, "400 Bad Request", "Bad request: the Content-Length is not a size.")
    if length > SLACK_MAX_BODY:
        logger.warning("slack.request_refused", extra={"status": 413, "declared_bytes": length})
        return _answer(start_response, "413 Request Entity Too Large", f"Bad request: {too_large(SLACK_MAX_BODY)}.")
    body = environ["wsgi.input"].read(length) if length else b""
    timestamp, signature = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"), environ.get("HTTP_X_SLACK_SIGNATURE")
    if not signed(verifier, body, timestamp, signature):
        return _answer(start_response, "401 Unauthorized", '{"error": "invalid request"}', "application/json")
    problem = malformed(body, str(environ.get("CONTENT_TYPE") or ""))
    if problem is None:
        return slack({**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}, start_response)
    logger.warning("slack.request_refused", extra={"status": 400, "reason": problem, "bytes": len(body)})
    return _answer(start_response, "400 Bad Request", f"Bad request: {problem}.")


def _answer(
    start_response: Callable[..., Any], status: str, text: str, content_type: str = "text/plain; charset=utf-8"
) -> list[bytes]:
    body = text.encode("utf-8")
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
