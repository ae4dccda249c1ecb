"""A local front for moto that answers chosen AWS JSON operations with an error, as AWS would."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class AwsFaultProxy:
    """Forwards every request to moto, except operations listed in `faults` (by X-Amz-Target suffix)."""

    def __init__(self, upstream: str, faults: dict[str, tuple[int, str, str]]) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = faults  # operation -> (HTTP status, __type code, message)
        self.seen: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> AwsFaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                proxy.seen.append(operation)
                if operation in proxy.faults:
                    status, code, message = proxy.faults[operation]
                    self._answer(
                        status,
                        json.dumps({"__type": code, "message": message}).encode(),
                        {"Content-Type": "application/x-amz-json-1.0"},
                    )
                    return
                self._forward("POST", body)

            def do_GET(self) -> None:
                self._forward("GET", None)

            def do_PUT(self) -> None:
                self._forward("PUT", self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _forward(self, method: str, body: bytes | None) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}}
                request = urllib.request.Request(proxy.upstream + self.path, data=body, method=method, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        self._answer(response.status, response.read(), dict(response.headers))
                except urllib.error.HTTPError as error:
                    self._answer(error.code, error.read(), dict(error.headers))

            def _answer(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in {"content-length", "transfer-encoding", "connection", "server", "date"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
