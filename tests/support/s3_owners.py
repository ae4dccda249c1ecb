"""A local front for moto's S3 that checks `ExpectedBucketOwner` as S3 does (moto ignores it).

moto puts every bucket in its one account; this front gives chosen buckets another owner, answers 403 AccessDenied
to a request whose `x-amz-expected-bucket-owner` names someone else, and records which owner each request
expected, so a test can see that the bot asked S3 to check the owner on every read.
"""

from __future__ import annotations

import contextlib
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

OWNER_HEADER = "x-amz-expected-bucket-owner"
ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message>'
    b"<RequestId>0000000000000000</RequestId></Error>"
)


@dataclass(frozen=True)
class S3Call:
    """One request the front saw: method, bucket, key, the owner it expected (None: not checked), and the access key
    it was signed with (whose account's credentials read it)."""

    method: str
    bucket: str
    key: str
    expected_owner: str | None
    access_key: str | None = None


class S3OwnerFront:
    """Forwards to moto; buckets in `owners` belong to that account, others to moto's own."""

    def __init__(self, upstream: str, owners: dict[str, str]) -> None:
        self.upstream = upstream.rstrip("/")
        self.owners = owners
        self.calls: list[S3Call] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def calls_to(self, bucket: str) -> list[S3Call]:
        with self._lock:
            return [call for call in self.calls if call.bucket == bucket]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, call: S3Call) -> bool:
        """Whether S3 would serve it: an expected owner must be the bucket's owner."""
        with self._lock:
            self.calls.append(call)
        owner = self.owners.get(call.bucket)
        return call.expected_owner is None or owner is None or call.expected_owner == owner

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve("GET")

            def do_HEAD(self) -> None:
                self._serve("HEAD")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", 0) or 0)
                body = self.rfile.read(length) if length else None
                bucket, _, key = urlsplit(self.path).path.lstrip("/").partition("/")
                signed_by = self.headers.get("Authorization", "").partition("Credential=")[2].split("/", 1)[0]
                call = S3Call(method, bucket, key, self.headers.get(OWNER_HEADER), signed_by or None)
                if not front._record(call):
                    self._answer(403, b"" if method == "HEAD" else ACCESS_DENIED, {"Content-Type": "application/xml"})
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}}
                request = urllib.request.Request(front.upstream + self.path, data=body, method=method, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, payload, answer = response.status, response.read(), dict(response.headers.items())
                except urllib.error.HTTPError as error:  # S3 errors are answers too: pass them on
                    status, payload, answer = error.code, error.read(), dict(error.headers.items())
                self._answer(status, payload, answer, head=method == "HEAD")

            def _answer(self, status: int, payload: bytes, headers: dict[str, str], *, head: bool = False) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    for name, value in headers.items():
                        if name.lower() not in {"content-length", "transfer-encoding", "connection", "server", "date"}:
                            self.send_header(name, value)
                    self.send_header("Content-Length", headers.get("Content-Length", str(len(payload))))
                    self.end_headers()
                    if not head:
                        self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
