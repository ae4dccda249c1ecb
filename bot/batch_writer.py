"""BatchWriteItem over raw HTTP: export lines already are DynamoDB's wire JSON, so they are sent unchanged.

Skipping boto3's serializer is what makes the loader fast, and it means `B` values (base64 text in the export)
reach DynamoDB as the same base64 text, never encoded twice. Writes are retried until done: none is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol
from urllib.parse import quote, urlsplit

import orjson
from botocore.exceptions import BotoCoreError
from botocore.httpsession import get_cert_path

from bot.errors import AwsError, BotError

if TYPE_CHECKING:
    from botocore.credentials import ReadOnlyCredentials
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)

MAX_BATCH = 25
TARGET = "DynamoDB_20120810.BatchWriteItem"
CONTENT_TYPE = "application/x-amz-json-1.0"
THROTTLING = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
RETRYABLE = THROTTLING | {"InternalServerError", "ServiceUnavailable", "InternalFailure"}
_CREDENTIAL_ERRORS = frozenset(
    {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "MissingAuthenticationToken"}
)

# A write request as sent: its JSON (`{"PutRequest":…}` or `{"DeleteRequest":…}`) and whether it is a put.
WriteRequest = tuple[bytes, bool]
_PUT, _DELETE, _END = b'{"PutRequest":{"Item":', b'{"DeleteRequest":{"Key":', b"}}"


class BatchWriteRefused(AwsError):
    """DynamoDB refused a batch for a reason retrying cannot fix (schema mismatch, missing table, access)."""


class WriteCancelled(Exception):
    """The load was asked to stop while a batch was still being written."""


class CredentialSource(Protocol):
    """botocore's (possibly refreshing) Credentials: each snapshot is consistent, so one is taken per request."""

    def get_frozen_credentials(self) -> ReadOnlyCredentials: ...


@dataclass
class WriteStats:
    """Counters shared by every writer thread of one load."""

    items_written: int = 0
    deletes_applied: int = 0
    retries: int = 0
    throttles: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, puts: int = 0, deletes: int = 0, retries: int = 0, throttles: int = 0) -> None:
        with self._lock:
            self.items_written += puts
            self.deletes_applied += deletes
            self.retries += retries
            self.throttles += throttles


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


class BatchWriter:
    """Writes batches of at most 25 requests to one table, retrying until all land: at once while most of each
    attempt lands, with full-jitter exponential backoff while DynamoDB throttles or leaves most of it undone."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        table_name: str,
        *,
        stats: WriteStats,
        halt: threading.Event,
        backoff_base_s: float = 0.05,
        backoff_cap_s: float = 5.0,
        timeout_s: float = 60.0,
    ) -> None:
        # botocore has no public accessor for a client's resolved (possibly refreshable) credentials
        credentials = dynamodb._get_credentials()  # type: ignore[attr-defined]
        if credentials is None:
            raise BotError("No AWS credentials were found for DynamoDB.", "Configure the bot's AWS role or keys.")
        endpoint = dynamodb.meta.endpoint_url
        self._table = table_name
        self._table_json = orjson.dumps(table_name)
        self._signer = SigV4Signer(credentials, dynamodb.meta.region_name, endpoint)
        self._url_path = self._signer.path
        self._stats = stats
        self._halt = halt
        self._base = backoff_base_s
        self._cap = backoff_cap_s
        self._random = random.Random()
        # botocore keeps the client's `verify` setting (True, False or a CA bundle path) on its private session
        verify = getattr(getattr(getattr(dynamodb, "_endpoint", None), "http_session", None), "_verify", True)
        self._http = HttpTransport(endpoint, verify if isinstance(verify, (bool, str)) else True, timeout_s)

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._http.close()

    def write(self, requests: Sequence[WriteRequest], source: str) -> None:
        """Write every request (keys must be distinct); returns once DynamoDB has processed all of them."""
        pending = list(requests)
        attempt = 0
        while True:
            if self._halt.is_set():
                raise WriteCancelled
            throttled = False
            try:
                status, data = self._post(pending)
            except ssl.SSLCertVerificationError as error:
                raise BatchWriteRefused(
                    f"DynamoDB's TLS certificate could not be verified ({error}).", "Check the endpoint and CA bundle."
                ) from error
            except (OSError, ValueError, BotoCoreError) as error:  # BotoCoreError: refreshing credentials failed
                reason = f"no answer ({error!r})"  # connection reset, timeout, DNS: the whole batch is sent again
            else:
                unprocessed = self._unprocessed(data) if status == 200 else None
                if unprocessed is not None:
                    put_left = sum(1 for _, is_put in unprocessed if is_put)
                    put_sent = sum(1 for _, is_put in pending if is_put)
                    self._stats.add(
                        puts=put_sent - put_left,
                        deletes=(len(pending) - put_sent) - (len(unprocessed) - put_left),
                    )
                    if not unprocessed:
                        return
                    if len(unprocessed) * 2 <= len(pending):
                        # Most of the batch landed: the table is taking writes, so send the rest at once.
                        # Backing off here would let a few stragglers per batch set the pace of the whole load.
                        self._stats.add(retries=1, throttles=1)
                        pending, attempt = unprocessed, 0
                        continue
                    pending, throttled, reason = unprocessed, True, f"{len(unprocessed)} unprocessed"
                elif status == 200:
                    reason = "an unreadable answer"
                else:
                    code, message = _error(data)
                    if code in THROTTLING:
                        throttled = True
                    elif status < 500 and code not in RETRYABLE:
                        raise self._refused(status, code, message, source)
                    reason = f"HTTP {status} {code}"
            self._stats.add(retries=1, throttles=int(throttled))
            attempt += 1
            if attempt >= 8 and attempt & (attempt - 1) == 0:  # 8, 16, 32…: loud enough to notice, not a flood
                logger.warning(
                    "batch not written yet table=%s source=%s attempts=%d last=%s", self._table, source, attempt, reason
                )
            delay = self._random.uniform(0, min(self._cap, self._base * 2 ** min(attempt - 1, 20)))
            if self._halt.wait(delay):
                raise WriteCancelled

    def _post(self, requests: Sequence[WriteRequest]) -> tuple[int, bytes]:
        body = b"".join((b'{"RequestItems":{', self._table_json, b":[", b",".join(r for r, _ in requests), b"]}}"))
        return self._http.post(self._url_path, self._signer.headers(body, TARGET), body)

    def _unprocessed(self, data: bytes) -> list[WriteRequest] | None:
        """The requests DynamoDB left undone; None when the answer is unreadable (the batch is sent again)."""
        try:
            answer = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(answer, dict):
            return None
        left = (answer.get("UnprocessedItems") or {}).get(self._table) or []
        return [(orjson.dumps(request), "PutRequest" in request) for request in left]

    def _refused(self, status: int, code: str, message: str, source: str) -> BatchWriteRefused:
        said = f"DynamoDB said: {code or status}: {message or 'no message'}."
        if code == "ResourceNotFoundException":
            return BatchWriteRefused(f"Table {self._table} was not found. {said}", "Check the table and region.", code)
        if code == "AccessDeniedException":
            return BatchWriteRefused(
                f"The bot may not write to table {self._table}. {said}",
                "Grant its role dynamodb:BatchWriteItem on the table.",
                code,
            )
        if code in _CREDENTIAL_ERRORS:
            return BatchWriteRefused(f"AWS did not accept the bot's credentials. {said}", None, code)
        if code == "ValidationException":
            return BatchWriteRefused(
                f"DynamoDB refused items from {source} for table {self._table}. {said}",
                "The export probably comes from a table with another key schema or types.",
                code,
            )
        return BatchWriteRefused(f"Writing items from {source} to table {self._table} failed. {said}", None, code)


class ExportLineReader:
    """Turns export lines into write requests and their keys, parsing no more of a line than needed.

    DynamoDB writes a full export's key attributes first (`{"Item":{"pk":{"S":"1"},"sk":…`): then the key is read
    with one anchored regex and the item is forwarded as raw bytes. Other lines are parsed with orjson.
    """

    def __init__(self, key_names: Sequence[str]) -> None:
        self.key_names = tuple(key_names)
        attributes = (
            b'"' + re.escape(orjson.dumps(name)[1:-1]) + rb'":\{"([SNB])":"([^"\\]*)"\}' for name in self.key_names
        )
        self._leading_key = re.compile(rb'\{"Item":\{' + b",".join(attributes))

    def read(self, line: bytes) -> tuple[WriteRequest, Hashable]:
        """The request for one line (a put, or a delete for an incremental line without NewImage) and its key.

        Raises KeyError when the line lacks a key attribute, ValueError when it is not DynamoDB JSON.
        """
        match = self._leading_key.match(line)
        if match is not None:
            text = line.rstrip()
            if text.endswith(b"}}"):
                parts = [part.decode() for part in match.groups()]
                for index in range(0, len(parts), 2):
                    if parts[index] == "N":
                        parts[index + 1] = _canonical_number(self.key_names[index // 2], parts[index + 1])
                return (_PUT + text[8:-1] + _END, True), tuple(parts)
        record = orjson.loads(line)
        if not isinstance(record, dict):
            raise ValueError("a line must be a JSON object")
        if (image := record.get("Item")) is not None or (image := record.get("NewImage")) is not None:
            request = (_PUT + orjson.dumps(image) + _END, True)
        elif (image := record.get("Keys")) is not None:
            request = (_DELETE + orjson.dumps(image) + _END, False)
        else:
            raise ValueError("the line has no Item, NewImage or Keys")
        return request, request_key(image, self.key_names)


def request_key(image: dict[str, Any], key_names: tuple[str, ...]) -> Hashable:
    """The item's key as DynamoDB compares keys, so a batch never holds two requests for one key."""
    parts: list[str] = []
    for name in key_names:
        ((kind, value),) = image[name].items()
        parts += (kind, _canonical_number(name, value) if kind == "N" else value)
    return tuple(parts)


def _canonical_number(name: str, value: str) -> str:
    """The number as DynamoDB compares it ("1.50" is "1.5"); plain integers, the common case, already are."""
    if value.isdigit() and (value[0] != "0" or len(value) == 1):
        return value
    try:
        return str(Decimal(value).normalize())
    except InvalidOperation as error:
        raise ValueError(f"{name} is not a number: {value!r}") from error


def _error(data: bytes) -> tuple[str, str]:
    try:
        answer = orjson.loads(data)
    except orjson.JSONDecodeError:
        return "", data[:200].decode(errors="replace")
    if not isinstance(answer, dict):
        return "", ""
    code = str(answer.get("__type", "")).rsplit("#", 1)[-1]
    return code, str(answer.get("message") or answer.get("Message") or "")


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
