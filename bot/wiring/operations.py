"""What an orchestrator and Prometheus ask the bot: /healthz (liveness), /readyz (readiness), /metrics.

- /healthz: 200 as long as the process serves requests; a restart is the cure for nothing else.
- /readyz: 200 when the database answers, its schema is this code's, and (Socket Mode) the websocket is connected;
  503 with the reasons otherwise, so a load balancer or the image's HEALTHCHECK stops sending work.
- /metrics: Prometheus text format from bot.metrics.REGISTRY.

All three are served on DDBBOT_METRICS_PORT (9095 unless set), in HTTP mode as in Socket Mode. The port Slack
reaches (PORT, HTTP mode) serves /healthz beside /slack/events, for the load balancer in front of it, and nothing
else: /metrics names every table without PITR (`ddbbot_table_pitr_enabled{table=…} 0`) and /readyz says what is
wrong with the database, which is nobody's business who can reach the Slack endpoint. /healthz says only "ok".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, PlatformCollector, ProcessCollector, generate_latest
from sqlalchemy import Engine

from bot.db import ping
from bot.metrics import REGISTRY
from bot.schema_migrations import head_revision, schema_state

logger = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PATHS = ("/healthz", "/readyz", "/metrics")  # the metrics port
SLACK_PORT_PATHS = ("/healthz",)  # the port Slack reaches: liveness only, for its load balancer
_collectors_registered = False


class Readiness:
    """Whether this replica should be sent work; each check says what is wrong when it is."""

    def __init__(self, engine: Engine, socket_connected: Callable[[], bool] | None = None) -> None:
        self._engine = engine
        self._socket_connected = socket_connected
        self._head = head_revision()

    def problems(self) -> list[str]:
        """Empty when ready."""
        if not ping(self._engine):
            return ["the database does not answer"]
        found = []
        try:
            state = schema_state(self._engine)
        except Exception:
            logger.exception("readiness: could not read the schema revision")
            return ["the schema revision could not be read"]
        if state.current != self._head:
            found.append(f"the database schema is at {state.current}, this code needs {self._head}")
        if self._socket_connected is not None and not self._socket_connected():
            found.append("the Socket Mode connection to Slack is down")
        return found


def operations_app(readiness: Readiness) -> WsgiApp:
    """The WSGI app answering /healthz, /readyz and /metrics (404 for anything else)."""
    _register_process_collectors()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if method not in {"GET", "HEAD"} or path not in PATHS:
            return _answer(start_response, "404 Not Found", b"not found\n")
        if path == "/healthz":
            return _answer(start_response, "200 OK", b"ok\n")
        if path == "/metrics":
            return _answer(start_response, "200 OK", generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
        problems = readiness.problems()
        if problems:
            return _answer(start_response, "503 Service Unavailable", ("\n".join(problems) + "\n").encode())
        return _answer(start_response, "200 OK", b"ready\n")

    return app


def _answer(
    start_response: Callable[..., Any], status: str, body: bytes, kind: str = "text/plain; charset=utf-8"
) -> list[bytes]:
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]


def _register_process_collectors() -> None:
    """CPU, memory and open files of the process, once per process (the registry refuses duplicates)."""
    global _collectors_registered
    if not _collectors_registered:
        ProcessCollector(registry=REGISTRY)
        PlatformCollector(registry=REGISTRY)
        _collectors_registered = True
