"""Hand-written fakes of the restore ports, and a core on a temporary SQLite database, for unit tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from bot.aws.accounts import AwsAccounts
from bot.aws.pricing import PriceBook
from bot.background.claims import ClaimStore
from bot.background.fence import ClaimKeeper, Steps, no_steps
from bot.background.notes import NOTE, Delivery, NoteStamp, NoteWork, delivered
from bot.background.targets import TargetStore
from bot.background.work import WorkKind, WorkRunner, WorkTiming
from bot.core import Core
from bot.db import make_engine, transaction
from bot.restores.executors import Executor
from bot.restores.models import (
    Approval,
    ImportOptions,
    LoadOptions,
    LoadSource,
    RestoreMode,
    RestorePlan,
    RestoreRequest,
    RestoreStatus,
)
from bot.restores.notify import MessageRef, RestoreOutcome, RestoreProgress
from bot.restores.runner import TOPIC, RestoreResults, RestoreWork, RunnerTiming
from bot.restores.store import RestoreStore, enqueue_restore
from bot.store import Store
from bot.wiring.schema import create_schema

START = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)


class Clock:
    """A settable clock for Core.clock."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RecordingNotifier:
    """RestoreNotifier that records what it was told (and can refuse to post)."""

    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    destinations: list[tuple[str, str, str]] = field(default_factory=list)  # (ending, request id, target) delivered
    refuse_posting: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def approval_requested(self, request: RestoreRequest) -> MessageRef:
        if self.refuse_posting:
            from bot.errors import PreconditionFailed

            raise PreconditionFailed("Slack answered `not_in_channel`")
        self._record("approval_requested", request, None)
        return MessageRef(request.approval_channel or "C0APPROVALS", "1.000100")

    def approval_recorded(self, request: RestoreRequest, approvals: list[Approval]) -> None:
        self._record("approval_recorded", request, [a.approver for a in approvals])

    def decided(self, request: RestoreRequest, approvals: list[Approval]) -> None:
        self._record("decided", request, request.status)

    def started(self, request: RestoreRequest, resumed: str | None) -> None:
        self._record("started", request, resumed)

    def progress(self, request: RestoreRequest, progress: RestoreProgress) -> None:
        self._record("progress", request, progress)

    def finished(self, request: RestoreRequest, outcome: RestoreOutcome, stamp: NoteStamp) -> Delivery:
        return self._ending("finished", request, outcome, stamp)

    def failed(self, request: RestoreRequest, reason: str, stamp: NoteStamp) -> Delivery:
        return self._ending("failed", request, reason, stamp)

    def cancelled(self, request: RestoreRequest, outcome: RestoreOutcome | None, stamp: NoteStamp) -> Delivery:
        return self._ending("cancelled", request, outcome, stamp)

    def _ending(self, name: str, request: RestoreRequest, detail: Any, stamp: NoteStamp) -> Delivery:
        """An ending is recorded once (its first destination); every destination is delivered."""
        with self._lock:
            self.destinations.append((name, request.id, stamp.target))
            first = sum(1 for d in self.destinations if d[:2] == (name, request.id)) == 1
        if first:
            self._record(name, request, detail)
        return delivered()

    def named(self, name: str) -> list[tuple[str, str, Any]]:
        return [call for call in self.calls if call[0] == name]

    def _record(self, name: str, request: RestoreRequest, detail: Any) -> None:
        with self._lock:
            self.calls.append((name, request.id, detail))


@dataclass
class Approvers:
    """ApproverCheck over a fixed set of user ids."""

    users: set[str]

    def is_approver(self, user_id: str) -> bool:
        return user_id in self.users


def make_core(tmp_path: Path, clock: Clock | None = None, url: str | None = None) -> Core:
    """A Core on a fresh database (SQLite unless `url` says otherwise); AWS is never called by the code under test."""
    engine = make_engine(url or f"sqlite:///{tmp_path / 'unit.sqlite3'}")
    create_schema(engine)
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="unit", aws_secret_access_key="unit")

    def no_pricing() -> Any:
        raise RuntimeError("no pricing in unit tests")

    return Core(aws=AwsAccounts(session, {}), store=Store(engine), prices=PriceBook(no_pricing), clock=clock or Clock())


EXPORT_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01768385930622-efd1a093"


def plan(target: str = "orders-restored", table: dict[str, Any] | None = None, schema_basis: str = "") -> RestorePlan:
    """A small import plan."""
    options = ImportOptions(
        bucket="acme",
        bucket_owner=None,
        key_prefix="p/AWSDynamoDB/01768385930622-efd1a093/data/",
        input_format="DYNAMODB_JSON",
        compression="GZIP",
        table=table or {},
        schema_basis=schema_basis,
        source_table=None,
    )
    return RestorePlan(RestoreMode.IMPORT, (EXPORT_ARN,), target, None, "us-east-1", options)


def load_plan(target: str = "orders-staging") -> RestorePlan:
    """A plan of the loader into an existing table, from one full export."""
    source = LoadSource(
        url="s3://acme/p/AWSDynamoDB/01768385930622-efd1a093/",
        export_id="01768385930622-efd1a093",
        export_type="FULL_EXPORT",
        export_format="DYNAMODB_JSON",
        bucket="acme",
        prefix="p",
        owner=None,
        read_alias=None,
        read_region="us-east-1",
    )
    return RestorePlan(RestoreMode.LOAD, (EXPORT_ARN,), target, None, "us-east-1", LoadOptions(("pk",), (source,)))


def pending_request(
    store: RestoreStore,
    *,
    request_id: str = "r-0000000001",
    requested_by: str = "U0ALICE",
    required: int = 1,
    created: datetime = START,
    ttl: timedelta = timedelta(minutes=60),
    the_plan: RestorePlan | None = None,
) -> RestoreRequest:
    """Store a PENDING request as Restores.request would."""
    chosen = the_plan or plan()
    request = RestoreRequest(
        id=request_id,
        status=RestoreStatus.PENDING,
        plan=chosen,
        plan_hash=chosen.digest(),
        requested_by=requested_by,
        required_approvals=required,
        created_at=created,
        expires_at=created + ttl,
        approval_channel="C0APPROVALS",
        approval_ts="1.000100",
    )
    return store.create(request)


def approve(store: RestoreStore, request_id: str = "r-0000000001") -> None:
    """PENDING → APPROVED and queued as claimed work in one transaction, as the last approver's click does."""
    with transaction(store.engine) as connection:
        assert store.transition(request_id, RestoreStatus.PENDING, RestoreStatus.APPROVED, connection=connection)
        enqueue_restore(connection, request_id)


def restore_runner(
    core: Core,
    store: RestoreStore,
    claims: ClaimStore,
    notifier: RecordingNotifier,
    executors: dict[str, Executor],
    timing: RunnerTiming,
    *,
    holder: str,
    monotonic: Callable[[], float] = time.monotonic,
    steps: Steps = no_steps,
    on_cycle: Sequence[Callable[[], object]] = (),
) -> WorkRunner:
    """A replica's work runner over restores and their result notes, as bootstrap builds it."""
    work = RestoreWork(core, store, notifier, executors, timing)
    targets = TargetStore(claims.engine, max_attempts=claims.max_attempts, retry_after=_at_once, clock=claims.clock)
    notes = NoteWork({TOPIC: RestoreResults(store, notifier)}, targets, retry_after=timedelta(0))
    keeper = ClaimKeeper(claims, holder, monotonic=monotonic, steps=steps)
    kinds = [work.kind(), WorkKind(NOTE, notes, parallel=4)]
    return WorkRunner(keeper, kinds, WorkTiming(interval=0.05, first_retry=timedelta(0)), on_cycle=on_cycle)


def _at_once(_attempts: int) -> timedelta:
    return timedelta(0)
