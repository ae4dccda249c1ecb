"""Signed keep-alive HTTP to a DynamoDB endpoint, lean enough for tens of thousands of items a second.

botocore's SigV4Auth and urllib3 each cost about half a millisecond of CPU per request, as much as parsing a
whole 25-item batch; these two classes do the same work for a tenth of that.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import ssl
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO, Protocol
from urllib.parse import quote, urlsplit

from botocore.httpsession import get_cert_path

from bot.errors import BotError

if TYPE_CHECKING:
    from botocore.credentials import ReadOnlyCredentials

CONTENT_TYPE = "application/x-amz-json-1.0"


class CredentialSource(Protocol):
    """botocore's (possibly refreshing) Credentials: each snapshot is consistent, so one is taken per request."""

    def get_frozen_credentials(self) -> ReadOnlyCredentials: ...


class SigV4Signer:
    """AWS Signature V4 for one JSON POST, equal to botocore's `SigV4Auth` (a test compares both).

    botocore's signer costs ~0.6 ms a request (its header objects dominate), as much as parsing all 25 items;
    this one derives the signing key once a day and builds the canonical request from four known headers.
    """

    def __init__(self, credentials: CredentialSource, region: str, endpoint_url: str, service: str = "dynamodb"):
        self._credentials = credentials
        self._region = region
        self._service = service
        parts = urlsplit(endpoint_url)
        host = parts.hostname or ""  # as botocore's SigV4: lowercase, IPv6 in brackets, default port left out
        self.host = f"[{host}]" if ":" in host else host
        if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
            self.host += f":{parts.port}"
        self.path = quote(parts.path or "/", safe="/~")
        self._keys: dict[tuple[str, str], bytes] = {}
        self._clock = (-1, "")

    def headers(self, body: bytes, target: str, now: datetime | None = None) -> dict[str, str]:
        """Signed headers for a POST of `body` with `X-Amz-Target: target`; credentials are read per call."""
        credentials = self._credentials.get_frozen_credentials()
        if not credentials.access_key or not credentials.secret_key:
            raise BotError("The AWS credentials for DynamoDB lack a key.", "Check the bot's AWS role or keys.")
        amz_date = now.strftime("%Y%m%dT%H%M%SZ") if now else self._amz_date()
        day = amz_date[:8]
        headers = {"content-type": CONTENT_TYPE, "host": self.host, "x-amz-date": amz_date}
        if credentials.token:
            headers["x-amz-security-token"] = credentials.token
        headers["x-amz-target"] = target
        names = sorted(headers)
        signed = ";".join(names)
        canonical = "\n".join(
            (
                "POST",
                self.path,
                "",
                "".join(f"{name}:{headers[name]}\n" for name in names),
                signed,
                hashlib.sha256(body).hexdigest(),
            )
        )
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(credentials.secret_key, day), to_sign.encode(), "sha256")
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature.hexdigest()}"
        )
        return headers

    def _amz_date(self) -> str:
        second = int(time.time())  # formatting a date costs more than the rest of the signature: once a second
        clock = self._clock  # one tuple, so threads never pair a second with another second's text
        if clock[0] != second:
            clock = self._clock = (second, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second)))
        return clock[1]

    def _signing_key(self, secret: str, day: str) -> bytes:
        cached = self._keys.get((secret, day))
        if cached is None:
            key = ("AWS4" + secret).encode()
            for part in (day, self._region, self._service, "aws4_request"):
                key = hmac.new(key, part.encode(), "sha256").digest()
            self._keys = {(secret, day): key}  # rotating credentials would otherwise grow this forever
            cached = key
        return cached


class HttpTransport:
    """Keep-alive HTTP/1.1 POSTs to one endpoint, one connection per concurrent caller.

    urllib3 and http.client spend ~0.25-0.5 ms of CPU per call parsing headers, as much as the batch's items;
    DynamoDB answers with plain Content-Length responses, so a small reader costs a tenth of that. TLS is verified
    as the boto3 client was told to (`verify`: True, False or a CA bundle path).
    """

    def __init__(self, endpoint_url: str, verify: bool | str = True, timeout_s: float = 60.0) -> None:
        parts = urlsplit(endpoint_url)
        self._address = (parts.hostname or "localhost", parts.port or (443 if parts.scheme == "https" else 80))
        self._timeout = timeout_s
        self._tls: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._tls = ssl.create_default_context(cafile=verify if isinstance(verify, str) else get_cert_path(True))
            if verify is False:
                self._tls.check_hostname = False
                self._tls.verify_mode = ssl.CERT_NONE
        self._idle: list[tuple[socket.socket, BinaryIO]] = []
        self._lock = threading.Lock()

    def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """Send one request; a kept-alive connection the server closed meanwhile is replaced once, silently."""
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = f"POST {path} HTTP/1.1\r\n{head}content-length: {len(body)}\r\n\r\n".encode() + body
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is not None:
            try:
                return self._exchange(connection, request)
            except (_StaleConnection, ConnectionResetError, BrokenPipeError):
                pass  # the server dropped the idle connection; resending is harmless, writes are idempotent
        return self._exchange(self._connect(), request)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for sock, reader in idle:
            reader.close()
            sock.close()

    def _connect(self) -> tuple[socket.socket, BinaryIO]:
        sock = socket.create_connection(self._address, timeout=self._timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self._address[0])
        return sock, sock.makefile("rb")

    def _exchange(self, connection: tuple[socket.socket, BinaryIO], request: bytes) -> tuple[int, bytes]:
        sock, reader = connection
        keep = False
        try:
            sock.sendall(request)
            status_line = reader.readline(65537)
            if not status_line:
                raise _StaleConnection("the server closed the connection")
            status, body, keep = _read_response(status_line, reader)
            return status, body
        finally:
            if keep:
                with self._lock:
                    self._idle.append(connection)
            else:
                reader.close()
                sock.close()


class _StaleConnection(ConnectionError):
    pass


def _read_response(status_line: bytes, reader: BinaryIO) -> tuple[int, bytes, bool]:
    """Parse status, headers and a Content-Length, chunked or until-close body; returns (status, body, keep)."""
    while True:
        fields = status_line.split(None, 2)
        if len(fields) < 2 or not fields[0].startswith(b"HTTP/"):
            raise ConnectionError(f"not an HTTP response: {status_line[:80]!r}")
        status, length, chunked = int(fields[1]), -1, False
        keep = fields[0] == b"HTTP/1.1"
        while (line := reader.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                keep = value.strip().lower() == b"keep-alive" or (keep and value.strip().lower() != b"close")
        if status >= 200:
            break
        status_line = reader.readline(65537)  # a 1xx answer precedes the real one
    if chunked:
        parts = []
        while (size := int(reader.readline(65537).split(b";")[0], 16)) > 0:
            parts.append(reader.read(size))
            reader.readline(65537)
        while reader.readline(65537) not in (b"\r\n", b"\n", b""):
            pass
        body = b"".join(parts)
    elif length >= 0:
        body = reader.read(length)
        if len(body) != length:
            raise ConnectionError("the connection closed in the middle of the answer")
    else:
        body, keep = reader.read(), False
    return status, body, keep
