"""Signed keep-alive HTTP to a DynamoDB endpoint, lean enough for tens of thousands of items a second.

Why not botocore (or awscrt): botocore's SigV4Auth and urllib3 each cost about half a millisecond of CPU per
request, as much as parsing a whole 25-item batch; these two classes do the same work for a tenth of that, with no
dependency beyond botocore. They reach DynamoDB as botocore would (endpoint.py resolves the settings): the same
signature (a test compares it with botocore's SigV4Auth), the same TLS verification, and the same proxies, chosen
by botocore's own ProxyConfiguration: an http:// proxy tunnels HTTPS with CONNECT (and forwards plain HTTP), an
https:// proxy is reached over TLS first (TLS in TLS, or forwarding with `proxy_use_forwarding_for_https`), and
`Proxy-Authorization` comes from the proxy URL's user and password. A test runs a proxy that records its use.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import ssl
import threading
import time
from datetime import datetime
from typing import BinaryIO
from urllib.parse import quote, urlsplit

from botocore.httpsession import ProxyConfiguration
from urllib3.util.ssltransport import SSLTransport

from bot.bounded import TooLarge, read_at_most, size_text
from bot.errors import BotError
from bot.limits import MAX_DYNAMODB_ANSWER
from bot.loader.endpoint import CredentialSource, DynamoDbEndpoint, tls_context

CONTENT_TYPE = "application/x-amz-json-1.0"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_INTERIM_ANSWERS, _MAX_HEADERS = 10, 100


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


class ProxyRefused(ConnectionError):
    """The proxy refused to open a tunnel (its status and reason are in the message)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"the proxy answered {status} {reason}")
        self.status = status


class HttpTransport:
    """Keep-alive HTTP/1.1 POSTs to one endpoint, one connection per concurrent caller.

    urllib3 and http.client spend ~0.25-0.5 ms of CPU per call parsing headers, as much as the batch's items;
    DynamoDB answers with plain Content-Length responses, so a small reader costs a tenth of that.
    """

    def __init__(self, endpoint: DynamoDbEndpoint) -> None:
        parts = urlsplit(endpoint.url)
        self._host = parts.hostname or "localhost"
        self._address = (self._host, parts.port or _DEFAULT_PORTS.get(parts.scheme, 80))
        self._connect_timeout, self._read_timeout = endpoint.connect_timeout_s, endpoint.read_timeout_s
        self._tls = tls_context(endpoint.verify, endpoint.client_cert) if parts.scheme == "https" else None
        proxies = ProxyConfiguration(proxies=dict(endpoint.proxies), proxies_settings=dict(endpoint.proxies_config))
        self._proxy = _Proxy.for_endpoint(proxies, endpoint.url)
        self._target = f"{parts.scheme}://{parts.netloc}" if self._proxy and self._proxy.forwards else ""
        self._idle: list[tuple[socket.socket | SSLTransport, BinaryIO]] = []
        self._lock = threading.Lock()

    @property
    def proxy_url(self) -> str | None:
        """The proxy requests go through (credentials included), None when they go straight to the endpoint."""
        return self._proxy.url if self._proxy else None

    def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """Send one request; a kept-alive connection the server closed meanwhile is replaced once, silently."""
        if self._target and self._proxy is not None:
            headers = {**headers, **self._proxy.headers}  # a forwarding proxy reads them on every request
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = f"POST {self._target}{path} HTTP/1.1\r\n{head}content-length: {len(body)}\r\n\r\n".encode() + body
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

    def _connect(self) -> tuple[socket.socket | SSLTransport, BinaryIO]:
        proxy = self._proxy
        sock: socket.socket | SSLTransport
        sock = socket.create_connection(proxy.address if proxy else self._address, timeout=self._connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if proxy is not None:
                sock = proxy.open(sock, self._address)
            if self._tls is not None and not (proxy and proxy.forwards):
                if isinstance(sock, ssl.SSLSocket):  # an https:// proxy's tunnel: TLS inside its TLS
                    sock = SSLTransport(sock, self._tls, server_hostname=self._host)
                else:
                    sock = self._tls.wrap_socket(sock, server_hostname=self._host)
        except BaseException:
            sock.close()
            raise
        sock.settimeout(self._read_timeout)
        return sock, sock.makefile("rb")  # type: ignore[return-value]  # SSLTransport.makefile is binary too

    def _exchange(self, connection: tuple[socket.socket | SSLTransport, BinaryIO], request: bytes) -> tuple[int, bytes]:
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


class _Proxy:
    """The proxy botocore would use for the endpoint: its address, TLS, headers, and CONNECT or forwarding."""

    def __init__(self, url: str, headers: dict[str, str], settings: dict[str, object], endpoint_https: bool) -> None:
        parts = urlsplit(url)
        self.url = url
        self.address = (parts.hostname or "localhost", parts.port or _DEFAULT_PORTS.get(parts.scheme, 80))
        self.headers = headers
        self._tls: ssl.SSLContext | None = None
        if parts.scheme == "https":
            ca_bundle = settings.get("proxy_ca_bundle")
            client_cert = settings.get("proxy_client_cert")
            self._tls = tls_context(
                ca_bundle if isinstance(ca_bundle, str) else True,
                client_cert if isinstance(client_cert, (str, tuple)) else None,
            )
        forwarding_https = parts.scheme == "https" and bool(settings.get("proxy_use_forwarding_for_https"))
        self.forwards = not endpoint_https or forwarding_https  # else a CONNECT tunnel carries the endpoint's TLS

    @classmethod
    def for_endpoint(cls, proxies: ProxyConfiguration, endpoint_url: str) -> _Proxy | None:
        url = proxies.proxy_url_for(endpoint_url)
        if not url:
            return None
        return cls(url, proxies.proxy_headers_for(url), dict(proxies.settings), endpoint_url.startswith("https:"))

    def open(self, sock: socket.socket, target: tuple[str, int]) -> socket.socket:
        """The connection to the proxy, over TLS for an https:// proxy, tunnelled to `target` unless forwarding."""
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self.address[0])
        if self.forwards:
            return sock
        host = f"[{target[0]}]" if ":" in target[0] else target[0]
        head = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        sock.sendall(f"CONNECT {host}:{target[1]} HTTP/1.1\r\nHost: {host}:{target[1]}\r\n{head}\r\n".encode())
        with sock.makefile("rb", buffering=0) as reader:  # unbuffered: not one byte of the tunnel is read here
            fields = reader.readline(65537).split(None, 2)
            while reader.readline(65537) not in (b"\r\n", b"\n", b""):
                pass
        if len(fields) < 2 or not fields[1].isdigit():
            raise ConnectionError("the proxy did not answer CONNECT with HTTP")
        if int(fields[1]) != 200:
            raise ProxyRefused(int(fields[1]), (fields[2] if len(fields) > 2 else b"").decode(errors="replace").strip())
        return sock


def _read_response(status_line: bytes, reader: BinaryIO) -> tuple[int, bytes, bool]:
    """Parse status, headers and a Content-Length, chunked or until-close body; returns (status, body, keep).

    Interim (1xx) answers, header lines and the body are bounded: a broken peer cannot keep a writer reading forever
    nor make it hold more than DynamoDB ever answers.
    """
    for _ in range(_MAX_INTERIM_ANSWERS):
        fields = status_line.split(None, 2)
        if len(fields) < 2 or not fields[0].startswith(b"HTTP/"):
            raise ConnectionError(f"not an HTTP response: {status_line[:80]!r}")
        status, length, chunked = int(fields[1]), -1, False
        keep = fields[0] == b"HTTP/1.1"
        for _ in range(_MAX_HEADERS + 1):
            if (line := reader.readline(65537)) in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                keep = value.strip().lower() == b"keep-alive" or (keep and value.strip().lower() != b"close")
        else:
            raise ConnectionError(f"more than {_MAX_HEADERS} header lines in an answer")
        if status >= 200:
            break
        status_line = reader.readline(65537)  # a 1xx answer precedes the real one
    else:
        raise ConnectionError(f"more than {_MAX_INTERIM_ANSWERS} interim answers and no final one")
    if chunked:
        parts, held = [], 0
        while (size := int(reader.readline(65537).split(b";")[0], 16)) > 0:
            if (held := held + size) > MAX_DYNAMODB_ANSWER:
                raise _too_large()
            parts.append(reader.read(size))
            reader.readline(65537)
        while reader.readline(65537) not in (b"\r\n", b"\n", b""):
            pass
        body = b"".join(parts)
    elif length >= 0:
        if length > MAX_DYNAMODB_ANSWER:
            raise _too_large()
        body = reader.read(length)
        if len(body) != length:
            raise ConnectionError("the connection closed in the middle of the answer")
    else:
        try:
            body, keep = read_at_most(reader, MAX_DYNAMODB_ANSWER, "an answer", "more than DynamoDB sends"), False
        except TooLarge as error:
            raise _too_large() from error
    return status, body, keep


def _too_large() -> ConnectionError:
    """An answer larger than DynamoDB gives to any request the loader sends (bot/limits.py), refused unread."""
    return ConnectionError(f"an answer larger than {size_text(MAX_DYNAMODB_ANSWER)}, more than DynamoDB sends")
