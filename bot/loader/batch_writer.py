"""BatchWriteItem over raw HTTP: export lines already are DynamoDB's wire JSON, so they are sent unchanged.

Skipping boto3's serializer is what makes the loader fast, and it means `B` values (base64 text in the export)
reach DynamoDB as the same base64 text, never encoded twice. Writes are retried until done: none is dropped.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from botocore.exceptions import BotoCoreError

from bot.errors import AwsError, BotError
from bot.loader.http import HttpTransport, SigV4Signer
from bot.loader.lines import WriteRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)

MAX_BATCH = 25
TARGET = "DynamoDB_20120810.BatchWriteItem"
THROTTLING = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
RETRYABLE = THROTTLING | {"InternalServerError", "ServiceUnavailable", "InternalFailure"}
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

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, puts: int = 0, deletes: int = 0, retries: int = 0, throttles: int = 0) -> None:
        with self._lock:
            self.items_written += puts
            self.deletes_applied += deletes
            self.retries += retries
            self.throttles += throttles


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


def _error(data: bytes) -> tuple[str, str]:
    try:
        answer = orjson.loads(data)
    except orjson.JSONDecodeError:
        return "", data[:200].decode(errors="replace")
    if not isinstance(answer, dict):
        return "", ""
    code = str(answer.get("__type", "")).rsplit("#", 1)[-1]
    return code, str(answer.get("message") or answer.get("Message") or "")
