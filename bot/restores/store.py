"""Restore requests and approvals in the database; every state change is one compare-and-set UPDATE."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.background.claims import enqueue_work
from bot.db import DatabaseClock, UtcDateTime, database_now, metadata, transaction
from bot.restores.models import ACTIVE, Approval, Estimate, RestorePlan, RestoreRequest, RestoreStatus, SourceSummary
from bot.timefmt import utcnow

restore_requests = Table(
    "restore_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("plan", JSON, nullable=False),
    Column("plan_hash", String(64), nullable=False),
    Column("target_table", String(255), nullable=False),
    Column("account_alias", String(64)),
    Column("region", String(32), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("channel_id", String(64)),
    Column("response_url", Text),
    Column("sources", JSON, nullable=False, default=list),
    Column("estimate", JSON),
    Column("notes", JSON),  # what planning found that approvers must weigh (a list of sentences)
    Column("required_approvals", Integer, nullable=False),
    Column("approval_channel", String(64)),
    Column("approval_ts", String(32)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("decided_at", UtcDateTime()),
    Column("decided_by", String(512)),
    Column("started_at", UtcDateTime()),
    Column("finished_at", UtcDateTime()),
    Column("aws_ref", String(1024)),
    Column("result", JSON, nullable=False, default=dict),
    Column("failure_message", Text),
    Column("runner", String(64)),  # unused since work_claims (bot.background.claims) holds the claim
    Column("heartbeat_at", UtcDateTime()),  # unused, as `runner`
    Column("updated_at", UtcDateTime(), nullable=False),
)
Index("ix_restore_requests_status", restore_requests.c.status)
Index("ix_restore_requests_created", restore_requests.c.created_at)

restore_approvals = Table(
    "restore_approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(32), nullable=False),
    Column("approver", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    UniqueConstraint("request_id", "approver", name="uq_restore_approvals_request_approver"),
)

RESTORE = "restore"  # the kind of claimed work an approved request is (bot.background.claims)
TRANSITION_FIELDS = {
    "decided_at",
    "decided_by",
    "started_at",
    "finished_at",
    "result",
    "failure_message",
}


class RestoreStore:
    """Repository for restore requests; transitions succeed for exactly one caller.

    Who runs an approved request is claimed work (bot.background.claims): the runner's writes go through the claim's
    fenced transaction (`connection=`), so a runner whose claim was taken over changes nothing. Times every replica
    compares (expiry) are read from the database's clock (`clock`, PostgreSQL's clock_timestamp()).
    """

    def __init__(self, engine: Engine, clock: DatabaseClock | None = None) -> None:
        self.engine = engine
        self._now: DatabaseClock = clock or database_now

    def now(self) -> datetime:
        """The database's clock: what every replica compares the requests' stored times (expiry) against."""
        with self.engine.connect() as connection:
            return self._now(connection)

    def create(self, request: RestoreRequest) -> RestoreRequest:
        """Insert a new request (its id is unique by construction)."""
        now = utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                insert(restore_requests).values(
                    id=request.id,
                    status=request.status,
                    mode=request.plan.mode,
                    plan=request.plan.as_dict(),
                    plan_hash=request.plan_hash,
                    target_table=request.plan.target,
                    account_alias=request.plan.alias,
                    region=request.plan.region,
                    requested_by=request.requested_by,
                    channel_id=request.channel_id,
                    response_url=request.response_url,
                    sources=[s.as_dict() for s in request.sources],
                    estimate=request.estimate.as_dict() if request.estimate else None,
                    notes=list(request.notes),
                    required_approvals=request.required_approvals,
                    approval_channel=request.approval_channel,
                    approval_ts=request.approval_ts,
                    created_at=request.created_at,
                    expires_at=request.expires_at,
                    result={},
                    updated_at=now,
                )
            )
        return request

    def get(self, request_id: str) -> RestoreRequest | None:
        """One request by id."""
        with self.engine.connect() as connection:
            row = connection.execute(select(restore_requests).where(restore_requests.c.id == request_id)).mappings()
            found = list(_requests(row))
        return found[0] if found else None

    def recent(self, limit: int = 20) -> list[RestoreRequest]:
        """The newest requests."""
        query = select(restore_requests).order_by(restore_requests.c.created_at.desc()).limit(limit)
        with self.engine.connect() as connection:
            return list(_requests(connection.execute(query).mappings()))

    def set_message(self, request_id: str, channel: str, ts: str) -> None:
        """Remember where the approval message is, so it can be edited later."""
        self._update(request_id, approval_channel=channel, approval_ts=ts)

    def set_aws_ref(self, request_id: str, aws_ref: str, *, connection: Connection | None = None) -> bool:
        """Remember the ImportArn (or restored table ARN) as soon as AWS returns it, before polling (in the claim's
        fenced transaction when given)."""
        with transaction(self.engine, connection) as begun:
            changed = begun.execute(
                update(restore_requests)
                .where(restore_requests.c.id == request_id)
                .values(aws_ref=aws_ref, updated_at=utcnow())
            ).rowcount
        return changed == 1

    def transition(
        self,
        request_id: str,
        expected: str | Collection[str],
        new: str,
        *,
        not_expired_at: datetime | None = None,
        connection: Connection | None = None,
        **changes: Any,
    ) -> bool:
        """`expected` → `new` atomically; False when the request was not in `expected` (someone else won).

        With `not_expired_at`, the change also requires the request not to have expired by then; with `connection`,
        it is made in that transaction (the runner's fenced one, or the approval's that also enqueues the work).
        """
        unknown = set(changes) - TRANSITION_FIELDS
        if unknown:
            raise ValueError(f"not a transition field: {sorted(unknown)}")
        allowed = [expected] if isinstance(expected, str) else list(expected)
        conditions = [restore_requests.c.id == request_id, restore_requests.c.status.in_(allowed)]
        if not_expired_at is not None:
            conditions.append(restore_requests.c.expires_at > not_expired_at)
        with transaction(self.engine, connection) as begun:
            changed = begun.execute(
                update(restore_requests).where(*conditions).values(status=new, **changes, updated_at=utcnow())
            ).rowcount
        return changed == 1

    def add_approval(self, request_id: str, approver: str, at: datetime) -> bool:
        """Record one approver's yes; False when they already approved (the unique key refuses it)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(restore_approvals).values(request_id=request_id, approver=approver, at=at))
        except IntegrityError:
            return False
        return True

    def approvals(self, request_id: str) -> list[Approval]:
        """Approvals of one request, oldest first."""
        query = (
            select(restore_approvals)
            .where(restore_approvals.c.request_id == request_id)
            .order_by(restore_approvals.c.id.asc())
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [Approval(row["request_id"], row["approver"], row["at"]) for row in rows]

    def approval_count(self, request_id: str) -> int:
        """How many distinct approvers said yes."""
        query = select(func.count()).select_from(restore_approvals).where(restore_approvals.c.request_id == request_id)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def due_for_expiry(self, now: datetime) -> list[RestoreRequest]:
        """PENDING requests whose time is up."""
        query = select(restore_requests).where(
            restore_requests.c.status == RestoreStatus.PENDING, restore_requests.c.expires_at <= now
        )
        with self.engine.connect() as connection:
            return list(_requests(connection.execute(query).mappings()))

    def runnable(self) -> list[RestoreRequest]:
        """APPROVED or RUNNING requests (to start, or to resume after a restart), oldest first."""
        query = (
            select(restore_requests)
            .where(restore_requests.c.status.in_(sorted(ACTIVE)))
            .order_by(restore_requests.c.created_at.asc())
        )
        with self.engine.connect() as connection:
            return list(_requests(connection.execute(query).mappings()))

    def _update(self, request_id: str, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(restore_requests)
                .where(restore_requests.c.id == request_id)
                .values(**values, updated_at=utcnow())
            )


def enqueue_restore(connection: Connection, request_id: str) -> None:
    """Make an approved request claimed work, in the approval's transaction."""
    enqueue_work(connection, RESTORE, request_id)


def _requests(rows: Iterable[Any]) -> Iterable[RestoreRequest]:
    for row in rows:
        yield RestoreRequest(
            id=row["id"],
            status=RestoreStatus(row["status"]),
            plan=RestorePlan.from_dict(row["plan"]),
            plan_hash=row["plan_hash"],
            requested_by=row["requested_by"],
            required_approvals=row["required_approvals"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            sources=tuple(SourceSummary.from_dict(s) for s in row["sources"] or []),
            estimate=Estimate.from_dict(row["estimate"]) if row["estimate"] else None,
            channel_id=row["channel_id"],
            response_url=row["response_url"],
            approval_channel=row["approval_channel"],
            approval_ts=row["approval_ts"],
            decided_at=row["decided_at"],
            decided_by=row["decided_by"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            aws_ref=row["aws_ref"],
            result=dict(row["result"] or {}),
            failure_message=row["failure_message"],
            notes=tuple(str(note) for note in row["notes"] or ()),
        )
