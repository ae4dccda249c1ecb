"""The running bot: services, the HTTP server (waitress) or Socket Mode, and the background jobs."""

from __future__ import annotations

import logging
import threading
from typing import Any

import boto3
from waitress import wasyncore
from waitress.server import create_server

from bot.settings import Settings
from bot.wiring.app import create_app, create_wsgi
from bot.wiring.bootstrap import build_services
from bot.wiring.services import Services

logger = logging.getLogger(__name__)
HTTP_THREADS = 32


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
        self._server: Any = None
        self._socket_handler: Any = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    @property
    def url(self) -> str:
        """Base URL of the HTTP endpoint (HTTP mode)."""
        host = "127.0.0.1" if self._host in {"0.0.0.0", ""} else self._host  # noqa: S104
        return f"http://{host}:{self._server.effective_port}"

    def start_background(self) -> None:
        """Start the jobs that run beside the server (export tracker, and what features add)."""
        for job in self.services.background:
            job.start()

    def start(self) -> BotRuntime:
        """Start background jobs and serve in a daemon thread (tests and the demo)."""
        self.start_background()
        if self.settings.socket_mode:
            self._connect_socket_mode()
            return self
        self._server = self._create_server()
        self._thread = threading.Thread(target=self._run_server, args=(self._server,), name="http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self, stop: threading.Event) -> None:
        """Serve in the calling thread until `stop` is set (SIGTERM) or the server ends."""
        self.start_background()
        if self.settings.socket_mode:
            self._connect_socket_mode()
            stop.wait()
            return
        self._server = self._create_server()
        logger.info("serving HTTP on port=%s path=/slack/events health=/healthz", self._server.effective_port)
        server = self._server
        watcher = threading.Thread(target=self._close_when_set, args=(stop,), daemon=True)
        watcher.start()
        self._run_server(server)

    def _run_server(self, server: Any) -> None:
        try:
            server.run()
        except (OSError, ValueError):
            # Closing the sockets from another thread can break the select() the loop is in: expected on stop.
            if not self._closing.is_set():
                raise

    def _close_when_set(self, stop: threading.Event) -> None:
        stop.wait()
        self._close_server()

    def stop(self) -> None:
        """Stop serving and the background jobs; safe to call twice."""
        self._close_server()
        if self._socket_handler is not None:
            self._socket_handler.close()
            self._socket_handler = None
        for job in reversed(self.services.background):
            job.stop()
        if self._thread is not None:
            self._thread.join(5)
        self.services.engine.dispose()

    def _create_server(self) -> Any:
        wsgi = create_wsgi(self.app, self.services)
        return create_server(
            wsgi,
            host=self._host,
            port=self._port,
            threads=HTTP_THREADS,
            ident="ddb-backup-bot",
            clear_untrusted_proxy_headers=True,
            connection_limit=500,
        )

    def _close_server(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            self._closing.set()
            server.task_dispatcher.shutdown(timeout=5)
            wasyncore.close_all(server._map)

    def _connect_socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        assert self.settings.slack_app_token is not None
        self._socket_handler = SocketModeHandler(self.app, self.settings.slack_app_token.get_secret_value())
        self._socket_handler.connect()
        logger.info("connected to Slack in Socket Mode")
