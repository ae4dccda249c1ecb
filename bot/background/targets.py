"""The targets of fanned-out work as rows: `work_targets`, one per target under its work's (kind, key), with its own
state, attempts, pause, reason and what it produced; the outcomes a target's attempt can have; and the store that
lays targets out once per edition and records each outcome (bot.background.fanout runs them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Connection, Engine, Integer, String, Table, Text, and_, delete, select, update

from bot.background.claims import ERROR_LENGTH
from bot.db import DatabaseClock, UtcDateTime, database_now, insert_of, metadata
from bot.metrics import WORK_TARGETS

logger = logging.getLogger(__name__)


class TargetState(StrEnum):
    """pending → done | failed → … → done | given_up; dropped when it turns out not to be a target."""

    PENDING = "pending"  # not tried yet, or waiting (for room, for Slack) without counting an attempt
    FAILED = "failed"  # tried and failed: tried again after a pause, the attempt counted
    DONE = "done"
    GIVEN_UP = "given_up"  # failed too often, or for a reason retrying cannot fix
    DROPPED = "dropped"  # not a target after all (a table that no longer carries the tag)


SETTLED = frozenset({TargetState.DONE, TargetState.GIVEN_UP, TargetState.DROPPED})
NOT_DONE = frozenset({TargetState.FAILED, TargetState.GIVEN_UP})  # what people must be told about

work_targets = Table(
    "work_targets",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("key", String(600), primary_key=True),
    Column("target", String(600), primary_key=True),
    Column("edition", String(64), nullable=False, default=""),  # targets planned for one edition of the work
    Column("position", Integer, nullable=False),  # the order they were planned in (the order people read)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),  # failures counted
    Column("available_at", UtcDateTime()),  # not tried again before (None: at once)
    Column("tried_at", UtcDateTime()),  # a call for it began: it may have happened though nothing was recorded
    Column("reason", Text),  # why it failed, waits or was dropped, as people read it
    Column("detail", JSON),  # what it produced (an export's ARN, a message's ts)
    Column("reported", String(16)),  # the state people were last told of (None: not told yet)
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)


@dataclass(frozen=True)
class Target:
    """One target's row."""

    kind: str
    key: str
    name: str
    edition: str
    position: int
    state: TargetState
    attempts: int
    available_at: datetime | None
    tried_at: datetime | None
    reason: str | None
    detail: dict[str, Any]
    created_at: datetime
    reported: TargetState | None = None

    @property
    def settled(self) -> bool:
        """Done, given up or dropped: never tried again."""
        return self.state in SETTLED

    @property
    def in_doubt(self) -> bool:
        """A call for it began and its outcome was not recorded: it may have happened (look before doing it again)."""
        return self.tried_at is not None and not self.settled

    @property
    def untold(self) -> bool:
        """Tried (done, failed, given up or dropped) and people not yet told of its state: news for the next message,
        whichever holder's pass changed it (one that died before telling leaves it to the next)."""
        return self.state != TargetState.PENDING and self.state != self.reported

    def due(self, now: datetime) -> bool:
        """Unsettled and its pause is over."""
        return not self.settled and (self.available_at is None or self.available_at <= now)


@dataclass(frozen=True)
class Seed:
    """A target as planned: its name, the failure already known for it (it could not even be looked at), and what
    its work must know about it (`detail`)."""

    name: str
    failed: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Done:
    """The target is done; `detail` is what it produced."""

    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    """The target failed for `reason` (as people read it): tried again after a pause, the attempt counted; `final`
    when retrying cannot help (given up at once)."""

    reason: str
    final: bool = False
    in_doubt: bool = False  # the call may have happened all the same (no answer came): look before repeating it


@dataclass(frozen=True)
class Waiting:
    """The target must wait `delay` (no room, the service unreachable); no attempt counted."""

    reason: str
    delay: timedelta
    in_doubt: bool = False


@dataclass(frozen=True)
class Dropped:
    """Not a target after all."""

    reason: str


Outcome = Done | Failed | Waiting | Dropped


class TargetStore:
    """The `work_targets` rows, on the claims' clock (`clock`: tests give a settable one); a target is given up after
    `max_attempts` failures, and tried again after `retry_after(attempts)`."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_attempts: int,
        retry_after: Callable[[int], timedelta],
        clock: DatabaseClock | None = None,
    ) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        self.retry_after = retry_after
        self._now: DatabaseClock = clock or database_now

    def now(self) -> datetime:
        """The clock targets are due by."""
        with self.engine.connect() as connection:
            return self._now(connection)

    def plan(
        self,
        connection: Connection,
        kind: str,
        key: str,
        seeds: Sequence[Seed],
        edition: str = "",
        *,
        again: bool = False,
    ) -> bool:
        """Lay out the work's targets (in the caller's fenced transaction); True when laid out now. Targets of the same
        edition are kept as they are (a holder taking over carries on) unless laid out `again`; another edition's are
        replaced."""
        current = connection.execute(select(work_targets.c.edition).where(_of(kind, key)).limit(1)).scalar()
        if current is not None and current == edition and not again:
            return False
        if current is not None:
            connection.execute(delete(work_targets).where(_of(kind, key)))
        now = self._now(connection)
        rows = [self._seeded(kind, key, edition, position, seed, now) for position, seed in enumerate(seeds)]
        if rows:
            connection.execute(insert_of(connection)(work_targets).values(rows).on_conflict_do_nothing())
        return True

    def of(self, kind: str, key: str, connection: Connection | None = None) -> list[Target]:
        """The work's targets in planned order."""
        query = select(work_targets).where(_of(kind, key)).order_by(work_targets.c.position)
        if connection is not None:
            return [_target(row) for row in connection.execute(query).mappings()]
        with self.engine.connect() as begun:
            return [_target(row) for row in begun.execute(query).mappings()]

    def trying(self, connection: Connection, target: Target) -> None:
        """A call for the target begins: from now on it is in doubt until its outcome is recorded."""
        now = self._now(connection)
        connection.execute(update(work_targets).where(_row(target)).values(tried_at=now, updated_at=now))

    def record(self, connection: Connection, target: Target, outcome: Outcome) -> Target:
        """The target's outcome (in the holder's fenced transaction); the row as it now stands."""
        now = self._now(connection)
        values = self._values(target, outcome, now)
        connection.execute(update(work_targets).where(_row(target)).values(updated_at=now, **values))
        row = connection.execute(select(work_targets).where(_row(target))).mappings().one()
        recorded = _target(row)
        _count(recorded, outcome)
        return recorded

    def told(self, connection: Connection, kind: str, key: str) -> None:
        """People were told of every target's state (in the transaction that owes the message telling them)."""
        connection.execute(
            update(work_targets)
            .where(_of(kind, key), work_targets.c.state != TargetState.PENDING)
            .values(reported=work_targets.c.state)
        )

    def give_up_rest(self, connection: Connection, kind: str, key: str, reason: str) -> list[Target]:
        """Every unsettled target given up for `reason` (the work itself was given up); those targets."""
        left = [t for t in self.of(kind, key, connection) if not t.settled]
        return [self.record(connection, t, Failed(reason, final=True)) for t in left]

    def _values(self, target: Target, outcome: Outcome, now: datetime) -> dict[str, Any]:
        if isinstance(outcome, Done):
            return {"state": TargetState.DONE, "detail": outcome.detail, "reason": None, "available_at": None}
        if isinstance(outcome, Dropped):
            return {"state": TargetState.DROPPED, "reason": _short(outcome.reason), "available_at": None}
        if isinstance(outcome, Waiting):
            waiting = {
                "state": TargetState.PENDING,
                "reason": _short(outcome.reason),
                "available_at": now + outcome.delay,
            }
            return waiting if outcome.in_doubt else {**waiting, "tried_at": None}
        attempts = target.attempts + 1
        given_up = outcome.final or attempts >= self.max_attempts
        failed = {
            "state": TargetState.GIVEN_UP if given_up else TargetState.FAILED,
            "attempts": attempts,
            "reason": _short(outcome.reason),
            "available_at": None if given_up else now + self.retry_after(attempts),
        }
        return failed if outcome.in_doubt else {**failed, "tried_at": None}

    def _seeded(self, kind: str, key: str, edition: str, position: int, seed: Seed, now: datetime) -> dict[str, Any]:
        failed = seed.failed is not None
        return {
            "kind": kind,
            "key": key,
            "target": seed.name,
            "edition": edition,
            "position": position,
            "state": TargetState.FAILED if failed else TargetState.PENDING,
            "attempts": 1 if failed else 0,
            "available_at": now + self.retry_after(1) if failed else None,
            "tried_at": None,
            "reason": _short(seed.failed) if failed else None,
            "detail": dict(seed.detail),
            "reported": None,
            "created_at": now,
            "updated_at": now,
        }


def _count(target: Target, outcome: Outcome) -> None:
    outcome_label = "waiting" if isinstance(outcome, Waiting) else str(target.state)
    WORK_TARGETS.labels(target.kind, outcome_label).inc()
    if target.state == TargetState.GIVEN_UP:
        logger.error(
            "work.target_given_up",
            extra={
                "work": f"{target.kind}:{target.key}",
                "target": target.name,
                "attempts": target.attempts,
                "reason": target.reason,
            },
        )


def _short(text: str | None) -> str | None:
    return text[:ERROR_LENGTH] if text is not None else None


def _of(kind: str, key: str) -> Any:
    return and_(work_targets.c.kind == kind, work_targets.c.key == key)


def _row(target: Target) -> Any:
    return and_(_of(target.kind, target.key), work_targets.c.target == target.name)


def _target(row: Any) -> Target:
    return Target(
        kind=row["kind"],
        key=row["key"],
        name=row["target"],
        edition=row["edition"],
        position=row["position"],
        state=TargetState(row["state"]),
        attempts=row["attempts"],
        available_at=row["available_at"],
        tried_at=row["tried_at"],
        reason=row["reason"],
        detail=dict(row["detail"] or {}),
        created_at=row["created_at"],
        reported=TargetState(row["reported"]) if row["reported"] else None,
    )
