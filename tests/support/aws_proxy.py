"""A local front for moto that can answer chosen AWS operations with an error, as AWS would: JSON-protocol services
(DynamoDB) get a JSON `__type` error, query-protocol ones (STS) AWS's XML `ErrorResponse`."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Fault:
    """An AWS error answer: HTTP status, `__type` code and message."""

    status: int
    code: str
    message: str


Decide = Callable[[str, bytes], Fault | None]
QUERY_ERROR = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code>'
    "<Message>{message}</Message></Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
)


def fixed_faults(faults: dict[str, Fault]) -> Decide:
    """Always fail the listed operations (by X-Amz-Target suffix); pass everything else to moto."""
    return lambda operation, _body: faults.get(operation)


class AwsFaultProxy:
    """Forwards every request to moto unless `decide(operation, body)` returns a Fault to answer instead."""

    def __init__(self, upstream: str, decide: Decide) -> None:
        self.upstream = upstream.rstrip("/")
        self.decide = decide
        self.seen: list[str] = []
        self.refused_regions: dict[str, Fault] = {}  # every request signed for that region gets the fault
        self.canned: dict[str, dict[str, Any]] = {}  # GET path prefix → JSON answer (APIs moto lacks)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def region_fault(self, authorization: str) -> Fault | None:
        """The fault of the region the request is signed for (its SigV4 credential scope), if refused."""
        scope = authorization.partition("Credential=")[2].split(",", 1)[0].split("/")
        return self.refused_regions.get(scope[2]) if len(scope) > 2 else None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> AwsFaultProxy:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                query = "x-www-form-urlencoded" in self.headers.get("Content-Type", "")
                if query:  # STS and other query-protocol services name the operation in the form body
                    operation = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
                else:
                    operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                proxy.seen.append(operation)
                fault = proxy.region_fault(self.headers.get("Authorization", "")) or proxy.decide(operation, body)
                if fault is None:
                    self._forward("POST", body)
                elif query:
                    payload = QUERY_ERROR.format(code=escape(fault.code), message=escape(fault.message)).encode()
                    self._answer(fault.status, payload, {"Content-Type": "text/xml"})
                else:
                    payload = json.dumps({"__type": fault.code, "message": fault.message}).encode()
                    self._answer(fault.status, payload, {"Content-Type": "application/x-amz-json-1.0"})

            def do_GET(self) -> None:
                canned = next((v for k, v in proxy.canned.items() if self.path.startswith(k)), None)
                if canned is not None:
                    self._answer(200, json.dumps(canned).encode(), {"Content-Type": "application/json"})
                    return
                self._forward("GET", None)

            def do_PUT(self) -> None:
                self._forward("PUT", self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _forward(self, method: str, body: bytes | None) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}}
                request = urllib.request.Request(proxy.upstream + self.path, data=body, method=method, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, payload, answer = response.status, response.read(), dict(response.headers.items())
                except urllib.error.HTTPError as error:  # AWS errors are answers too: pass them on
                    status, payload, answer = error.code, error.read(), dict(error.headers.items())
                self._answer(status, payload, answer)

            def _answer(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the bot stopped while waiting
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
