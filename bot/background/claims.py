"""Claimed work: every piece of background work is a row (kind, key) in `work_claims`, held by one replica at a time.

One table and one set of compare-and-sets for every kind (restores, verifications, drills, schedule fires, notes),
so "a crash at any step is taken over or reported" is proven once instead of per feature:

- `enqueue` makes the row `ready` (idempotent; in the caller's transaction, so the work exists exactly when the
  feature's row says it should);
- `claim` takes a `ready` row whose time has come, or a `held` row whose heartbeat is older than `stale_after` by
  the database's clock (its holder died or was cut off): one UPDATE, so two replicas never both win. Each take
  increments `token` (the fencing token) and `attempts`; a take past `max_attempts` hands the row out `exhausted`,
  to be reported as given up instead of run again;
- `fenced` is the transaction a holder writes its feature's state in: it first re-asserts the claim (holder and
  token), so a holder whose claim was taken over changes nothing. On PostgreSQL that UPDATE's row lock is held until
  commit, so a concurrent takeover waits and then sees the work finished; SQLite serialises writers;
- `settle` (done or given up, inside `fenced`), `release` (a clean stop: ready again without counting the attempt)
  and `fail` (ready again after a pause, the attempt counted).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Connection, Engine, Index, Integer, String, Table, Text, and_, or_, select, update

from bot.db import DatabaseClock, UtcDateTime, database_now, insert_of, metadata, transaction
from bot.metrics import WORK_CLAIMS, WORK_GIVEN_UP

logger = logging.getLogger(__name__)
REPORT_TRIES = 3  # takes of an exhausted row spent on reporting it; past them it is given up unreported (logged)
ERROR_LENGTH = 2000


class WorkState(StrEnum):
    """ready → held → done | given_up; held → ready again when released or failed."""

    READY = "ready"
    HELD = "held"
    DONE = "done"
    GIVEN_UP = "given_up"


work_claims = Table(
    "work_claims",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("key", String(600), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("holder", String(128)),
    Column("token", Integer, nullable=False, default=0),
    Column("heartbeat_at", UtcDateTime()),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer),  # set at each take from DDBBOT_WORK_MAX_ATTEMPTS
    Column("available_at", UtcDateTime()),  # None: at once
    Column("payload", JSON),
    Column("last_error", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
Index("ix_work_claims_due", work_claims.c.kind, work_claims.c.state, work_claims.c.created_at)


class ClaimLost(Exception):
    """The claim is no longer this holder's (taken over, released, finished): nothing was written."""


@dataclass(frozen=True)
class Claim:
    """One take of a row: whoever holds it may act for it until the claim is lost."""

    kind: str
    key: str
    holder: str
    token: int
    attempts: int
    max_attempts: int
    payload: dict[str, Any]
    last_error: str | None = None
    taken_over: bool = False  # the previous holder stopped heartbeating (it crashed or was cut off)

    @property
    def exhausted(self) -> bool:
        """Taken more often than allowed: report it given up instead of running it again."""
        return self.attempts > self.max_attempts

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


@dataclass(frozen=True)
class WorkItem:
    """A row as stored (for status pages and tests)."""

    kind: str
    key: str
    state: WorkState
    holder: str | None
    token: int
    attempts: int
    max_attempts: int | None
    heartbeat_at: datetime | None
    available_at: datetime | None
    payload: dict[str, Any]
    last_error: str | None


class ClaimStore:
    """The `work_claims` rows; `clock` is the database's (tests give a settable one), `stale_after` when a silent
    holder's claim may be taken, `max_attempts` how many takes a row gets before it is given up."""

    def __init__(
        self, engine: Engine, *, stale_after: timedelta, max_attempts: int, clock: DatabaseClock | None = None
    ) -> None:
        self.engine = engine
        self.stale_after = stale_after
        self.max_attempts = max_attempts
        self._now: DatabaseClock = clock or database_now

    @property
    def clock(self) -> DatabaseClock:
        """The clock claims are stamped by (what other rows compared with them must use)."""
        return self._now

    def now(self) -> datetime:
        """The database's clock."""
        with self.engine.connect() as connection:
            return self._now(connection)

    # ------------------------------------------------------------------------------------------- queue

    def enqueue(
        self,
        kind: str,
        key: str,
        *,
        payload: dict[str, Any] | None = None,
        connection: Connection | None = None,
        again: bool = False,
        delay: timedelta | None = None,
    ) -> None:
        """`enqueue_work` by this store's clock."""
        with transaction(self.engine, connection) as begun:
            now = self._now(begun)
            enqueue_work(begun, kind, key, payload=payload, again=again, available_at=now + delay if delay else None)

    def get(self, kind: str, key: str) -> WorkItem | None:
        """One row."""
        with self.engine.connect() as connection:
            row = connection.execute(select(work_claims).where(_row(kind, key))).mappings().first()
        return _item(row) if row is not None else None

    def items(self, kind: str | None = None) -> list[WorkItem]:
        """Every row (of one kind), oldest first."""
        query = select(work_claims).order_by(work_claims.c.created_at, work_claims.c.key)
        if kind is not None:
            query = query.where(work_claims.c.kind == kind)
        with self.engine.connect() as connection:
            return [_item(row) for row in connection.execute(query).mappings()]

    def due(self, kind: str, limit: int = 100) -> list[str]:
        """Keys that can be claimed now (ready and due, or held by a silent holder), oldest first."""
        with self.engine.connect() as connection:
            now = self._now(connection)
            query = (
                select(work_claims.c.key)
                .where(work_claims.c.kind == kind, self._takeable(now))
                .order_by(work_claims.c.created_at, work_claims.c.key)
                .limit(limit)
            )
            return [str(key) for key in connection.scalars(query)]

    # ------------------------------------------------------------------------------------------ claims

    def claim(self, kind: str, key: str, holder: str) -> Claim | None:
        """Take the row for `holder`: ready and due, or held by a holder silent for `stale_after`; None otherwise.

        The UPDATE comes first, so on SQLite the transaction holds the write lock before it reads anything."""
        with self.engine.begin() as connection:
            now = self._now(connection)
            take = {
                "state": WorkState.HELD,
                "holder": holder,
                "token": work_claims.c.token + 1,
                "attempts": work_claims.c.attempts + 1,
                "max_attempts": self.max_attempts,
                "heartbeat_at": now,
                "updated_at": now,
            }
            taken_over = self._take(connection, kind, key, self._stale(now), take)
            if not taken_over and not self._take(connection, kind, key, self._ready(now), take):
                return None
            row = connection.execute(select(work_claims).where(_row(kind, key))).mappings().one()
            claim = _claim(row, taken_over=taken_over)
            if claim.attempts > claim.max_attempts + REPORT_TRIES:
                self._settle(connection, claim, WorkState.GIVEN_UP, "it could not be reported as given up")
                logger.error("work.given_up_unreported", extra={"work": str(claim), "attempt": claim.attempts})
                WORK_GIVEN_UP.labels(kind).inc()
                return None
        WORK_CLAIMS.labels(kind, "taken_over" if taken_over else "taken").inc()
        if taken_over:
            logger.warning("work.taken_over", extra={"work": str(claim), "holder": holder, "attempt": claim.attempts})
        return claim

    def heartbeat(self, claim: Claim) -> bool:
        """Say the holder is alive (stamped by the database's clock); False when the claim is no longer its own."""
        with self.engine.begin() as connection:
            return self._reassert(connection, claim)

    @contextmanager
    def fenced(self, claim: Claim) -> Iterator[Connection]:
        """A transaction that commits only while `claim` is held: raises ClaimLost (nothing written) otherwise."""
        with self.engine.begin() as connection:
            if not self._reassert(connection, claim):
                raise ClaimLost(f"{claim} is no longer held by {claim.holder}")
            yield connection

    def settle(self, claim: Claim, connection: Connection, state: WorkState, error: str | None = None) -> None:
        """Done or given up, in the `fenced` transaction of the feature's own final change."""
        self._settle(connection, claim, state, error)
        if state == WorkState.GIVEN_UP:
            WORK_GIVEN_UP.labels(claim.kind).inc()

    def release(self, claim: Claim, *, delay: timedelta = timedelta(0), error: str | None = None) -> bool:
        """Give the row back, ready after `delay`, without counting the attempt (a clean stop, or work that must
        wait); False when it was not held by this claim any more."""
        return self._back(claim, delay, attempts=work_claims.c.attempts - 1, error=error)

    def fail(self, claim: Claim, error: str, retry_after: timedelta) -> bool:
        """Give the row back after a failure, ready after `retry_after`, the attempt counted."""
        return self._back(claim, retry_after, attempts=work_claims.c.attempts, error=error)

    # ------------------------------------------------------------------------------------------ helpers

    def _takeable(self, now: datetime) -> Any:
        return or_(self._ready(now), self._stale(now))

    def _ready(self, now: datetime) -> Any:
        due = or_(work_claims.c.available_at.is_(None), work_claims.c.available_at <= now)
        return and_(work_claims.c.state == WorkState.READY, due)

    def _stale(self, now: datetime) -> Any:
        return and_(work_claims.c.state == WorkState.HELD, work_claims.c.heartbeat_at < now - self.stale_after)

    def _take(self, connection: Connection, kind: str, key: str, condition: Any, values: dict[str, Any]) -> bool:
        statement = update(work_claims).where(_row(kind, key), condition).values(**values)
        return connection.execute(statement).rowcount == 1

    def _reassert(self, connection: Connection, claim: Claim) -> bool:
        now = self._now(connection)
        statement = update(work_claims).where(_held(claim)).values(heartbeat_at=now, updated_at=now)
        return connection.execute(statement).rowcount == 1

    def _settle(self, connection: Connection, claim: Claim, state: WorkState, error: str | None) -> None:
        now = self._now(connection)
        values: dict[str, Any] = {"state": state, "heartbeat_at": None, "updated_at": now}
        if error is not None:
            values["last_error"] = error[:ERROR_LENGTH]
        connection.execute(update(work_claims).where(_held(claim)).values(**values))

    def _back(self, claim: Claim, delay: timedelta, *, attempts: Any, error: str | None) -> bool:
        with self.engine.begin() as connection:
            now = self._now(connection)
            values: dict[str, Any] = {
                "state": WorkState.READY,
                "holder": None,
                "heartbeat_at": None,
                "attempts": attempts,
                "available_at": now + delay,
                "updated_at": now,
            }
            if error is not None:
                values["last_error"] = error[:ERROR_LENGTH]
            return connection.execute(update(work_claims).where(_held(claim)).values(**values)).rowcount == 1


def enqueue_work(
    connection: Connection,
    kind: str,
    key: str,
    *,
    payload: dict[str, Any] | None = None,
    again: bool = False,
    available_at: datetime | None = None,
) -> None:
    """Make (kind, key) ready to be claimed (at once, or from `available_at`), in the caller's transaction, so the
    work exists exactly when the feature's own change commits. Nothing happens when the key is known already, unless
    `again` (new work under the same key: a settled row is armed afresh, a held one loses its claim)."""
    now = database_now(connection)
    values = {
        "kind": kind,
        "key": key,
        "state": WorkState.READY,
        "token": 0,
        "attempts": 0,
        "available_at": available_at,
        "payload": payload,
        "created_at": now,
        "updated_at": now,
    }
    statement = insert_of(connection)(work_claims).values(**values)
    if not again:
        connection.execute(statement.on_conflict_do_nothing(index_elements=["kind", "key"]))
        return
    rearm = {
        "state": WorkState.READY,
        "holder": None,
        "token": work_claims.c.token + 1,
        "attempts": 0,
        "heartbeat_at": None,
        "available_at": available_at,
        "payload": payload,
        "last_error": None,
        "updated_at": now,
    }
    connection.execute(statement.on_conflict_do_update(index_elements=["kind", "key"], set_=rearm))


def _row(kind: str, key: str) -> Any:
    return and_(work_claims.c.kind == kind, work_claims.c.key == key)


def _held(claim: Claim) -> Any:
    return and_(
        _row(claim.kind, claim.key),
        work_claims.c.state == WorkState.HELD,
        work_claims.c.holder == claim.holder,
        work_claims.c.token == claim.token,
    )


def _claim(row: Any, *, taken_over: bool) -> Claim:
    return Claim(
        kind=row["kind"],
        key=row["key"],
        holder=row["holder"],
        token=row["token"],
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        payload=dict(row["payload"] or {}),
        last_error=row["last_error"],
        taken_over=taken_over,
    )


def _item(row: Any) -> WorkItem:
    return WorkItem(
        kind=row["kind"],
        key=row["key"],
        state=WorkState(row["state"]),
        holder=row["holder"],
        token=row["token"],
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        heartbeat_at=row["heartbeat_at"],
        available_at=row["available_at"],
        payload=dict(row["payload"] or {}),
        last_error=row["last_error"],
    )
