"""Conditional repairs: each key's live item read (consistently), judged, and written only under a condition that
DynamoDB checks at write time, so nothing written after what was approved is ever overwritten.

For each batch of actions: one BatchGetItem (ConsistentRead) reads the live items; an item already as it should end is
UNCHANGED, one that is neither that nor what the repair expects is a CONFLICT (both without writing); the rest are
written one by one with PutItem/DeleteItem and a ConditionExpression stating the expected item exactly
(conditions.py), asking for the item back on failure (ReturnValuesOnConditionCheckFailure=ALL_OLD), so a failed
condition is judged again on what DynamoDB saw: as it should end (a replay after a crash, or someone made the same
change) → UNCHANGED, otherwise → CONFLICT. Nothing is ever written twice: a replayed write meets its own result.

The one change no condition can see: DynamoDB cannot assert "no attributes other than these", so an attribute ADDED
by someone after the read above, with every other attribute left as it was, passes the condition, and the write
undoes it (a put drops the new attribute, a delete removes the item with it). The read just before the write
narrows that to the milliseconds between the two; the README's Recovery section states it.

Requests go over the loader's signed keep-alive HTTP (bot/loader/http.py: a tenth of botocore's CPU per call), as
DynamoDB JSON straight from the exports (binary stays base64 text); pacing is the loader's WriteRateController.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from bot.errors import AwsError
from bot.loader.batch_writer import RETRYABLE, THROTTLING, RetryPolicy, consumed_units, error_of
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.http import HttpTransport, SigV4Signer
from bot.loader.pacing import WriteRateController
from bot.recovery.actions import Outcome, RepairAction, decide
from bot.recovery.conditions import NoExactCondition, expect
from bot.recovery.diff import change_between
from bot.recovery.keys import KeySchema

logger = logging.getLogger(__name__)

MAX_READ_KEYS = 100  # BatchGetItem's limit per call
# The X-Amz-Target of each call, written out (tests/unit/test_deploy_iam_code.py finds the IAM actions by them)
TARGETS = {
    "BatchGetItem": "DynamoDB_20120810.BatchGetItem",
    "PutItem": "DynamoDB_20120810.PutItem",
    "DeleteItem": "DynamoDB_20120810.DeleteItem",
}
CONDITION_FAILED = "ConditionalCheckFailedException"
FATAL = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "MissingAuthenticationToken",
    }
)


class RepairRefused(AwsError):
    """DynamoDB refuses every repair (no table, no permission, bad credentials): retrying cannot help."""


class RepairStalled(AwsError):
    """No call of a batch got through for the whole retry deadline; outcomes recorded so far stay recorded."""


class RepairCancelled(Exception):
    """The work was asked to stop (shutdown or lost claim) between two calls."""


@dataclass(frozen=True)
class Judged:
    """One key's outcome and, for a conflict or a refusal, which attributes (names only) made it one."""

    seq: int
    outcome: Outcome
    note: str = ""


@dataclass
class RepairStats:
    """Counters shared by the writer's threads."""

    calls: int = 0
    retries: int = 0
    throttles: int = 0
    write_units: float = 0.0
    read_units: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class ConditionalWriter:
    """Reads, judges and conditionally writes the actions of one table; safe to share between threads."""

    def __init__(
        self,
        endpoint: DynamoDbEndpoint,
        table_name: str,
        schema: KeySchema,
        *,
        halt: threading.Event,
        pacer: WriteRateController | None = None,
        retry: RetryPolicy | None = None,
        stats: RepairStats | None = None,
    ) -> None:
        self.table = table_name
        self.schema = schema
        self.stats = stats or RepairStats()
        self._halt = halt
        self._pacer = pacer
        self._retry = retry or RetryPolicy()
        self._signer = SigV4Signer(endpoint.credentials, endpoint.region, endpoint.url)
        self._http = HttpTransport(endpoint)
        self._random = random.Random()

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._http.close()

    # ------------------------------------------------------------------------------------------------ reads

    def read(self, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """The live items of `keys` (None where absent), consistently read, in the order given."""
        found: dict[Any, dict[str, Any]] = {}
        for start in range(0, len(keys), MAX_READ_KEYS):
            pending = list(keys[start : start + MAX_READ_KEYS])
            while pending:
                body = {
                    "RequestItems": {self.table: {"Keys": pending, "ConsistentRead": True}},
                    "ReturnConsumedCapacity": "TOTAL",
                }
                answer = self._call("BatchGetItem", body, what=f"reading {len(pending)} item(s)")
                for item in (answer.get("Responses") or {}).get(self.table) or []:
                    found[self.schema.identity(item)] = item
                self.stats.add(read_units=consumed_units(answer) or len(pending) / 2)
                pending = ((answer.get("UnprocessedKeys") or {}).get(self.table) or {}).get("Keys") or []
                if pending:
                    self._backoff(1)
        return [found.get(self.schema.identity(key)) for key in keys]

    def dry_run(self, actions: Sequence[RepairAction]) -> list[Judged]:
        """What applying would do now (WRITE, UNCHANGED, CONFLICT, UNCHECKABLE), reading only."""
        judged = []
        for action, live in zip(actions, self.read([a.key for a in actions]), strict=True):
            found = _judged(live, action)
            if found is None:
                found = Judged(action.seq, Outcome.WRITE)
                try:
                    expect(action.expected, self.schema)
                except NoExactCondition as reason:
                    found = Judged(action.seq, Outcome.UNCHECKABLE, str(reason))
            judged.append(found)
        return judged

    # ----------------------------------------------------------------------------------------------- writes

    def apply(self, actions: Sequence[RepairAction]) -> list[Judged]:
        """Read, judge and write each action under its condition; one outcome per action, in order."""
        judged = []
        for action, live in zip(actions, self.read([a.key for a in actions]), strict=True):
            judged.append(_judged(live, action) or self._write(action))
        return judged

    def _write(self, action: RepairAction) -> Judged:
        try:
            condition = expect(action.expected, self.schema)
        except NoExactCondition as reason:
            return Judged(action.seq, Outcome.UNCHECKABLE, str(reason))
        body: dict[str, Any] = {"TableName": self.table, **condition.members()}
        if action.target is None:
            operation, body["Key"] = "DeleteItem", action.key
            size = len(msgspec.json.encode(action.expected)) if action.expected else 0
        else:
            operation, body["Item"] = "PutItem", action.target
            size = len(msgspec.json.encode(action.target))
        body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        body["ReturnConsumedCapacity"] = "TOTAL"
        units = float(max(1, math.ceil(size / 1024)))
        if self._pacer is not None and not self._pacer.acquire(units, self._halt.wait):
            raise RepairCancelled
        code, answer = self._attempts(operation, body, action)
        if self._pacer is not None:
            self._pacer.record(estimated=units, consumed=consumed_units(answer) or units, throttled=False)
        self.stats.add(write_units=consumed_units(answer) or units)
        if code == "":
            return Judged(action.seq, Outcome.WRITTEN)
        if code == CONDITION_FAILED:
            live = answer.get("Item")  # ALL_OLD: what DynamoDB judged the condition on (absent: no item)
            return _judged(live, action) or Judged(action.seq, Outcome.CONFLICT, _conflict_note(live, action))
        return Judged(action.seq, Outcome.REFUSED, f"DynamoDB refused the write ({code})")

    def _attempts(self, operation: str, body: dict[str, Any], action: RepairAction) -> tuple[str, dict[str, Any]]:
        """("", answer) when written; (code, error answer) for a failed condition or a refusal of this item."""
        try:
            return "", self._call(operation, body, what=f"writing {action.key_text}")
        except _ItemError as error:
            return error.code, error.answer

    # ------------------------------------------------------------------------------------------------- wire

    def _call(self, operation: str, body: dict[str, Any], *, what: str) -> dict[str, Any]:
        """One call, retried while DynamoDB throttles or fails transiently; raises _ItemError for an answer about
        this item (a failed condition, a validation error), RepairRefused when nothing can succeed."""
        data = msgspec.json.encode(body)
        attempt, progress_at = 0, self._retry.clock()
        while True:
            if self._halt.is_set():
                raise RepairCancelled
            status, answer, reason = self._post(operation, data)
            self.stats.add(calls=1)
            if status == 200:
                return answer
            code = str(answer.get("__type", "")).rsplit("#", 1)[-1] if status else ""
            if status and code not in THROTTLING and code not in RETRYABLE and status < 500:
                if code in FATAL:
                    raise RepairRefused(self._refusal(code), code=code)
                raise _ItemError(code or f"HTTP {status}", answer)
            attempt += 1
            self.stats.add(retries=1, throttles=int(code in THROTTLING))
            if self._pacer is not None and code in THROTTLING:
                self._pacer.record(estimated=0.0, consumed=0.0, throttled=True)
            if self._retry.clock() - progress_at >= self._retry.give_up_after_s:
                raise RepairStalled(
                    f"Repairing table {self.table} stopped: {what} got no answer through for "
                    f"{self._retry.give_up_after_s:.0f} s ({reason or code or status}).",
                    "Every outcome recorded so far is kept, and writes are conditional: fix the cause (network, "
                    "capacity), then the request resumes where it stopped without writing anything twice.",
                )
            self._backoff(attempt)

    def _post(self, operation: str, data: bytes) -> tuple[int, dict[str, Any], str]:
        try:
            status, raw = self._http.post(self._signer.path, self._signer.headers(data, TARGETS[operation]), data)
        except (OSError, ValueError) as error:
            return 0, {}, f"no answer: {type(error).__name__}"
        try:
            answer = msgspec.json.decode(raw) if raw else {}
        except (msgspec.DecodeError, RecursionError):
            return (status if status != 200 else 0), {}, "an unreadable answer"
        if not isinstance(answer, dict):
            return 0, {}, "an unreadable answer"
        if status != 200 and "__type" not in answer:
            code, _ = error_of(raw)
            answer = {"__type": code}
        return status, answer, ""

    def _backoff(self, attempt: int) -> None:
        cap = min(self._retry.backoff_cap_s, self._retry.backoff_base_s * 2 ** min(attempt - 1, 20))
        if self._halt.wait(self._random.uniform(0, cap)):
            raise RepairCancelled

    def _refusal(self, code: str) -> str:
        if code == "ResourceNotFoundException":
            return f"Table {self.table} was not found; nothing more was written."
        if code == "AccessDeniedException":
            return (
                f"The bot may not read or write table {self.table} (it needs dynamodb:GetItem, BatchGetItem, "
                "PutItem and DeleteItem on it); nothing more was written."
            )
        return f"AWS did not accept the bot's credentials ({code}); nothing more was written."


class _ItemError(Exception):
    """DynamoDB answered about this one item: a failed condition (with ALL_OLD) or a refusal of its values."""

    def __init__(self, code: str, answer: dict[str, Any]) -> None:
        super().__init__(code)
        self.code = code
        self.answer = answer


def _judged(live: dict[str, Any] | None, action: RepairAction) -> Judged | None:
    """UNCHANGED or CONFLICT (with what changed) as the live item says; None when it is still as expected."""
    outcome = decide(live, action)
    if outcome == Outcome.WRITE:
        return None
    return Judged(action.seq, outcome, _conflict_note(live, action) if outcome == Outcome.CONFLICT else "")


def _conflict_note(live: dict[str, Any] | None, action: RepairAction) -> str:
    """Which attributes (names only) differ from what the repair expected: what someone changed since."""
    if live is None:
        return "deleted since"
    if action.expected is None:
        return "created since"
    change = change_between(action.expected, live)
    names = sorted(change.changed + change.added + change.removed)
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return f"changed since: {shown}"
