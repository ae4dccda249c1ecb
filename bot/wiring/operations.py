"""What an orchestrator and Prometheus ask the bot: /healthz (liveness), /readyz (readiness), /metrics.

- /healthz: 200 as long as the process serves requests; a restart is the cure for nothing else.
- /readyz: 200 when the database answers, its schema is this code's, Slack answers auth.test, AWS answers
  sts:GetCallerIdentity and (Socket Mode) the websocket is connected; 503 otherwise, so a load balancer or the
  image's HEALTHCHECK stops sending work. The body is JSON: each check ("ok" or what is wrong) and the warnings
  (settings that let everyone act or nobody approve, account aliases whose role does not answer); no secrets.
- /metrics: Prometheus text format from bot.metrics.REGISTRY.

All three are served on DDBBOT_METRICS_PORT (9095 unless set), in HTTP mode as in Socket Mode. The port Slack
reaches (PORT, HTTP mode) serves /healthz beside /slack/events, for the load balancer in front of it, and nothing
else: /metrics names every table without PITR (`ddbbot_table_pitr_enabled{table=…} 0`) and /readyz says what is
wrong with the database, which is nobody's business who can reach the Slack endpoint. /healthz says only "ok".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, PlatformCollector, ProcessCollector, generate_latest
from sqlalchemy import Engine

from bot.db import ping
from bot.metrics import REGISTRY
from bot.schema_migrations import head_revision, schema_state
from bot.wiring.health import Health

logger = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PATHS = ("/healthz", "/readyz", "/metrics")  # the metrics port
SLACK_PORT_PATHS = ("/healthz",)  # the port Slack reaches: liveness only, for its load balancer
OK = "ok"
JSON = "application/json; charset=utf-8"
_collectors_registered = False


class Readiness:
    """Whether this replica should be sent work; each check says what is wrong when it is."""

    def __init__(
        self, engine: Engine, socket_connected: Callable[[], bool] | None = None, health: Health | None = None
    ) -> None:
        self._engine = engine
        self._socket_connected = socket_connected
        self._health = health
        self._head = head_revision()

    def checks(self) -> dict[str, str]:
        """Each check by name: "ok", or what is wrong."""
        found = {"database": self._database()}
        if found["database"] == OK:
            found["schema"] = self._schema()
        if self._socket_connected is not None:
            found["socket_mode"] = OK if self._socket_connected() else "the Socket Mode connection to Slack is down"
        for name, check in (self._health.checks if self._health else {}).items():
            found[name] = check() or OK
        return found

    def warnings(self) -> tuple[str, ...]:
        """What is allowed but probably not meant; never a reason to stop sending work."""
        return tuple(warning.operator for warning in self._health.warnings()) if self._health else ()

    def _database(self) -> str:
        return OK if ping(self._engine) else "the database does not answer"

    def _schema(self) -> str:
        try:
            state = schema_state(self._engine)
        except Exception:
            logger.exception("readiness.schema_unreadable")
            return "the schema revision could not be read"
        if state.current != self._head:
            return f"the database schema is at {state.current}, this code needs {self._head}"
        return OK


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
        checks = readiness.checks()
        ready = all(found == OK for found in checks.values())
        report = {"ready": ready, "checks": checks, "warnings": list(readiness.warnings())}
        body = json.dumps(report, indent=1, ensure_ascii=False)
        return _answer(start_response, "200 OK" if ready else "503 Service Unavailable", body.encode() + b"\n", JSON)

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
