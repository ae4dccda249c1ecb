"""BatchWriteItem over raw HTTP: export lines already are DynamoDB's wire JSON, so they are sent unchanged.

Skipping boto3's serializer is what makes the loader fast, and it means `B` values (base64 text in the export)
reach DynamoDB as the same base64 text, never encoded twice. Writes are retried until done, none is dropped, as
long as they make progress: a batch of which nothing lands for `RetryPolicy.give_up_after_s` (persistent 5xx,
DNS, refused or dropped connections, a table throttling everything) stops the load with the cause translated.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec
from botocore.exceptions import BotoCoreError
from botocore.httpsession import mask_proxy_url

from bot.errors import AwsError
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.http import HttpTransport, ProxyRefused, SigV4Signer
from bot.loader.lines import WriteRequest
from bot.loader.pacing import WriteRateController, estimated_units
from bot.metrics import LOADER_ITEMS, LOADER_RETRIES, LOADER_THROTTLES

logger = logging.getLogger(__name__)

MAX_BATCH = 25
TARGET = "DynamoDB_20120810.BatchWriteItem"
THROTTLING = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
RETRYABLE = THROTTLING | {"InternalServerError", "ServiceUnavailable", "InternalFailure"}
_CONSUMED_TOTAL = b']},"ReturnConsumedCapacity":"TOTAL"}'
_CREDENTIAL_ERRORS = frozenset(
    {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "MissingAuthenticationToken"}
)


class BatchWriteRefused(AwsError):
    """DynamoDB refused a batch for a reason retrying cannot fix (schema mismatch, missing table, access)."""


class WriteCancelled(Exception):
    """The load was asked to stop while a batch was still being written."""


@dataclass
class WriteStats:
    """Counters shared by every writer thread of one load."""

    items_written: int = 0
    deletes_applied: int = 0
    retries: int = 0
    throttles: int = 0
    units_consumed: float = 0.0  # write units DynamoDB reported (or the writer's estimate where it reported none)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._published = (0, 0, 0, 0)

    def add(self, puts: int = 0, deletes: int = 0, retries: int = 0, throttles: int = 0, units: float = 0.0) -> None:
        with self._lock:
            self.items_written += puts
            self.deletes_applied += deletes
            self.retries += retries
            self.throttles += throttles
            self.units_consumed += units

    def publish(self) -> None:
        """Add what was counted since the last call to the process-wide loader metrics. Called with each progress
        report and at the end, not per call: the counters' own locks would cost the writer threads ~5 % of speed."""
        with self._lock:
            figures = (self.items_written, self.deletes_applied, self.retries, self.throttles)
            published, self._published = self._published, figures
        puts, deletes, retries, throttles = (now - before for now, before in zip(figures, published, strict=True))
        if puts:
            LOADER_ITEMS.labels("put").inc(puts)
        if deletes:
            LOADER_ITEMS.labels("delete").inc(deletes)
        if retries:
            LOADER_RETRIES.inc(retries)
        if throttles:
            LOADER_THROTTLES.inc(throttles)


class WritesStalled(AwsError):
    """No write of a batch landed for the whole retry deadline; what was written stays, finished files are done."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long a batch may go without any of its writes landing, and the backoff between its attempts."""

    give_up_after_s: float = 300.0
    backoff_base_s: float = 0.05
    backoff_cap_s: float = 5.0
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)


@dataclass
class _Attempt:
    """What one call left to write: `reason` for the log, `cause` (translated) for the user if it persists."""

    left: list[WriteRequest]
    throttled: bool = False
    reason: str = ""
    cause: str = ""


class BatchWriter:
    """Writes batches of at most 25 requests to one table, retrying until all land: at once while most of each
    attempt lands, with full-jitter exponential backoff while DynamoDB throttles or leaves most of it undone, and
    giving up (WritesStalled) once nothing of the batch has landed for the policy's deadline."""

    def __init__(
        self,
        endpoint: DynamoDbEndpoint,
        table_name: str,
        *,
        stats: WriteStats,
        halt: threading.Event,
        retry: RetryPolicy = RetryPolicy(),
        pacer: WriteRateController | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._table = table_name
        self._table_json = msgspec.json.encode(table_name)
        self._signer = SigV4Signer(endpoint.credentials, endpoint.region, endpoint.url)
        self._url_path = self._signer.path
        self._stats = stats
        self._halt = halt
        self._retry = retry
        self._pacer = pacer
        self._random = random.Random()
        self._http = HttpTransport(endpoint)

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._http.close()

    def write(self, requests: Sequence[WriteRequest], source: str) -> None:
        """Write every request (keys must be distinct); returns once DynamoDB has processed all of them."""
        pending, attempt = list(requests), 0
        progress_at = self._retry.clock()
        while True:
            if self._halt.is_set():
                raise WriteCancelled
            outcome = self._attempt(pending, source)
            if not outcome.left:
                return
            now = self._retry.clock()
            if len(outcome.left) < len(pending):
                progress_at = now
                if len(outcome.left) * 2 <= len(pending):
                    # Most of the batch landed: the table is taking writes, so send the rest at once.
                    # Backing off here would let a few stragglers per batch set the pace of the whole load.
                    self._stats.add(retries=1, throttles=1)
                    pending, attempt = outcome.left, 0
                    continue
            elif now - progress_at >= self._retry.give_up_after_s:
                raise self._stalled(outcome, source, now - progress_at)
            pending, attempt = outcome.left, attempt + 1
            self._stats.add(retries=1, throttles=int(outcome.throttled))
            if attempt >= 8 and attempt & (attempt - 1) == 0:  # 8, 16, 32…: loud enough to notice, not a flood
                logger.warning(
                    "load.batch_not_written_yet",
                    extra={"table": self._table, "source": source, "attempts": attempt, "reason": outcome.reason},
                )
            cap = min(self._retry.backoff_cap_s, self._retry.backoff_base_s * 2 ** min(attempt - 1, 20))
            if self._halt.wait(self._random.uniform(0, cap)):
                raise WriteCancelled

    def _attempt(self, pending: list[WriteRequest], source: str) -> _Attempt:
        """One call, paced: what is left of `pending` afterwards, or a refusal raised when retrying cannot help."""
        estimate = float(sum(estimated_units(len(request), is_put) for request, is_put in pending))
        if self._pacer is not None and not self._pacer.acquire(estimate, self._halt.wait):
            raise WriteCancelled
        outcome, consumed = self._call(pending, source, estimate)
        if self._pacer is not None:
            self._pacer.record(estimated=estimate, consumed=consumed, throttled=outcome.throttled)
        return outcome

    def _call(self, pending: list[WriteRequest], source: str, estimate: float) -> tuple[_Attempt, float]:
        """The call itself, and the write units it consumed."""
        try:
            status, data = self._post(pending)
        except ssl.SSLCertVerificationError as error:
            raise BatchWriteRefused(
                f"DynamoDB's TLS certificate could not be verified ({error.verify_message}).",
                "Check the endpoint and the CA bundle (AWS_CA_BUNDLE).",
            ) from error
        except ProxyRefused as error:
            if error.status != 407:
                return _Attempt(pending, reason=str(error), cause=f"{self._proxy_name()} {error}"), 0.0
            raise BatchWriteRefused(
                f"{self._proxy_name()} asked for credentials (407 Proxy Authentication Required).",
                "Put the proxy's user and password in the proxy URL (HTTPS_PROXY=http://user:password@host:port).",
            ) from error
        except (OSError, ValueError, BotoCoreError) as error:  # BotoCoreError: refreshing credentials failed
            return _Attempt(pending, reason=f"no answer ({error!r})", cause=self._network_cause(error)), 0.0
        if status == 200:
            return self._landed(pending, data, estimate)
        code, message = error_of(data)
        if code not in THROTTLING and status < 500 and code not in RETRYABLE:
            raise self._refused(status, code, message, source)
        if code in THROTTLING:
            return _Attempt(pending, True, f"HTTP {status} {code}", f"DynamoDB throttled every write ({code})"), 0.0
        answer = _Attempt(pending, False, f"HTTP {status} {code}", f"DynamoDB answered HTTP {status} {code}".strip())
        return answer, 0.0

    def _landed(self, pending: list[WriteRequest], data: bytes, estimate: float) -> tuple[_Attempt, float]:
        """A 200: count what landed; its units are ConsumedCapacity's, else the estimate for the requests done."""
        answer = self._answer(data)
        if answer is None:
            return _Attempt(pending, reason="an unreadable answer", cause="DynamoDB's answers could not be read"), 0.0
        unprocessed, consumed = answer
        put_left, put_sent = sum(p for _, p in unprocessed), sum(p for _, p in pending)
        if consumed is None:
            left = sum(estimated_units(len(request), is_put) for request, is_put in unprocessed)
            consumed = max(0.0, estimate - left)
        consumed = max(consumed, float(len(pending) - len(unprocessed)))  # a write costs at least 1 unit (moto: 1/call)
        self._stats.add(
            puts=put_sent - put_left, deletes=len(pending) - put_sent - len(unprocessed) + put_left, units=consumed
        )
        cause = f"DynamoDB left every write unprocessed ({len(unprocessed)} of them): the table is throttling"
        return _Attempt(unprocessed, bool(unprocessed), f"{len(unprocessed)} unprocessed", cause), consumed

    def _stalled(self, outcome: _Attempt, source: str, seconds: float) -> WritesStalled:
        logger.error(
            "load.batch_given_up",
            extra={"table": self._table, "source": source, "seconds": round(seconds), "reason": outcome.reason},
        )
        return WritesStalled(
            f"Writing items from {source} to table {self._table} stopped: nothing of a batch landed for "
            f"{seconds:.0f} s because {outcome.cause}.",
            "Nothing written is lost (writes are idempotent) and every finished data file is checkpointed: fix "
            "the cause (network, proxy, DNS, or the table's capacity), then run the restore again.",
        )

    def _network_cause(self, error: BaseException) -> str:
        host = self._signer.host
        if isinstance(error, socket.gaierror):
            return f"the host name {host} could not be resolved (DNS)"
        if isinstance(error, TimeoutError):
            return f"{host} did not answer within {self._endpoint.read_timeout_s:.0f} s"
        if isinstance(error, ConnectionRefusedError):
            return f"{self._proxy_name() if self._http.proxy_url else host} refused the connection"
        if isinstance(error, ConnectionError):
            return f"the connection to {host} was closed before DynamoDB answered"
        if isinstance(error, BotoCoreError):
            return "the AWS credentials could not be refreshed"
        if isinstance(error, ValueError):
            return f"{host} did not answer in HTTP"
        return f"the network failed ({type(error).__name__})"

    def _proxy_name(self) -> str:
        return f"the proxy {mask_proxy_url(self._http.proxy_url or '')}"

    def _post(self, requests: Sequence[WriteRequest]) -> tuple[int, bytes]:
        body = b"".join(
            (b'{"RequestItems":{', self._table_json, b":[", b",".join(r for r, _ in requests), _CONSUMED_TOTAL)
        )
        return self._http.post(self._url_path, self._signer.headers(body, TARGET), body)

    def _answer(self, data: bytes) -> tuple[list[WriteRequest], float | None] | None:
        """The requests DynamoDB left undone and the units it reports consumed (None when it reports none); None
        when the answer is unreadable (the batch is sent again)."""
        try:
            answer = msgspec.json.decode(data)
        except (msgspec.DecodeError, RecursionError):  # msgspec raises RecursionError for too deep a nesting
            return None
        if not isinstance(answer, dict):
            return None
        left = (answer.get("UnprocessedItems") or {}).get(self._table) or []
        return [(msgspec.json.encode(request), "PutRequest" in request) for request in left], consumed_units(answer)

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


def consumed_units(answer: dict[str, object]) -> float | None:
    """The units of `ReturnConsumedCapacity=TOTAL` (table and indexes), or None when the answer has none; a list
    (BatchWriteItem, BatchGetItem) or one object (PutItem, DeleteItem)."""
    entries = answer.get("ConsumedCapacity")
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        return None
    units = [entry.get("CapacityUnits") for entry in entries if isinstance(entry, dict)]
    numbers = [float(u) for u in units if isinstance(u, int | float) and not isinstance(u, bool)]
    return sum(numbers) if numbers else None


def error_of(data: bytes) -> tuple[str, str]:
    """An error answer's code (without its namespace) and message; empty when the body is not one."""
    try:
        answer = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return "", data[:200].decode(errors="replace")
    if not isinstance(answer, dict):
        return "", ""
    code = str(answer.get("__type", "")).rsplit("#", 1)[-1]
    return code, str(answer.get("message") or answer.get("Message") or "")
