"""The running bot: services, the HTTP server (waitress) or Socket Mode, and the background jobs."""

from __future__ import annotations

import logging
import threading
from typing import Any

import boto3
from slack_bolt.adapter.socket_mode import SocketModeHandler
from waitress import wasyncore
from waitress.server import create_server

from bot.limits import SLACK_MAX_BODY
from bot.settings import Settings
from bot.wiring.app import create_app, create_wsgi
from bot.wiring.bootstrap import build_services
from bot.wiring.operations import Readiness, WsgiApp, operations_app
from bot.wiring.services import Services

logger = logging.getLogger(__name__)
HTTP_THREADS = 32


class HttpServer:
    """One waitress server in its own socket map (several may run in one process: the bot's, the metrics port,
    and in tests several bots), closed without a select() error."""

    def __init__(self, app: WsgiApp, host: str, port: int, name: str) -> None:
        self.name = name
        self._server: Any = create_server(
            app,
            map={},
            host=host,
            port=port,
            threads=HTTP_THREADS,
            ident="ddb-backup-bot",
            clear_untrusted_proxy_headers=True,
            connection_limit=500,
            max_request_body_size=SLACK_MAX_BODY + 1,  # waitress answers 413 to a larger body, unread (>= refused)
        )
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port bound (the system's choice when 0 was asked)."""
        return int(self._server.effective_port)

    def run(self) -> None:
        """Serve in the calling thread until close()."""
        try:
            self._server.run()
        except (OSError, ValueError):
            # Closing the sockets from another thread can break the select() the loop is in: expected on close.
            if not self._closing.is_set():
                raise

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop accepting, finish the requests in flight (up to 5 s), close the sockets; safe to call twice."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._server.task_dispatcher.shutdown(timeout=5)
        if self._thread is not None and self._thread.is_alive():
            # Closed by the serving thread itself, woken by the trigger: its select() returns now, not at the end
            # of its 1 s timeout (every stop, every test bot, paid that second).
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
            self._thread.join(5)
        wasyncore.close_all(self._server._map)  # a server never started, or a loop that did not take the thunk


class BotRuntime:
    """Start, serve and stop the bot; used by `python -m bot`, the demo and the tests alike."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "0.0.0.0",  # noqa: S104  (a container serves on every interface)
        port: int | None = None,
        boto_session: boto3.Session | None = None,
    ) -> None:
        self.settings = settings
        self.services: Services = build_services(settings, boto_session=boto_session)
        self.app = create_app(self.services)
        self._host = host
        self._port = settings.port if port is None else port
        self._socket_handler: Any = None
        self._servers: list[HttpServer] = []
        self.readiness = Readiness(
            self.services.engine, self._socket_connected if settings.socket_mode else None, self.services.health
        )

    @property
    def url(self) -> str:
        """Base URL of the first HTTP endpoint (the bot's in HTTP mode, the metrics port in Socket Mode)."""
        return self._url_of(self._servers[0])

    @property
    def metrics_url(self) -> str:
        """Base URL of the metrics port (/metrics, /readyz, /healthz)."""
        return self._url_of(next(s for s in self._servers if s.name == "metrics"))

    def _url_of(self, server: HttpServer) -> str:
        host = "127.0.0.1" if self._host in {"0.0.0.0", ""} else self._host  # noqa: S104
        return f"http://{host}:{server.port}"

    def start_background(self) -> None:
        """Start the jobs that run beside the server (the leader gate, the restore runner)."""
        for job in self.services.background:
            job.start()

    def start(self) -> BotRuntime:
        """Start background jobs and serve in daemon threads (tests and the demo)."""
        self.start_background()
        for server in self._open_servers():
            server.start()
        return self

    def serve_forever(self, stop: threading.Event) -> None:
        """Serve until `stop` is set (SIGTERM)."""
        self.start_background()
        servers = self._open_servers()
        for server in servers:
            server.start()
        stop.wait()

    def stop(self) -> None:
        """Stop serving, finish the commands already acknowledged, stop the background jobs; safe to call twice."""
        for server in self._servers:
            server.close()
        if self._socket_handler is not None:
            self._socket_handler.close()
            self._socket_handler = None
        self.services.work.shutdown(wait=True)
        for job in reversed(self.services.background):
            job.stop()
        self.services.engine.dispose()

    def _open_servers(self) -> list[HttpServer]:
        operations = operations_app(self.readiness)
        if self.settings.socket_mode:
            self._connect_socket_mode()
        else:
            server = HttpServer(create_wsgi(self.app, self.services, operations), self._host, self._port, "http")
            self._servers.append(server)
            logger.info("http.serving", extra={"port": server.port, "path": "/slack/events"})
        server = HttpServer(operations, self._host, self.settings.metrics_port, "metrics")
        self._servers.append(server)
        logger.info("metrics.serving", extra={"port": server.port, "paths": ["/metrics", "/healthz", "/readyz"]})
        return self._servers

    def _socket_connected(self) -> bool:
        handler = self._socket_handler
        return handler is not None and bool(handler.client.is_connected())

    def _connect_socket_mode(self) -> None:
        assert self.settings.slack_app_token is not None
        self._socket_handler = SocketModeHandler(self.app, self.settings.slack_app_token.get_secret_value())
        self._socket_handler.connect()
        logger.info("slack.socket_mode_connected")
