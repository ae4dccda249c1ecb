"""A message owed to people, kept in the row it is about: pending → sending (one poster holds it) → sent.

Exports (their result) and schedule runs (their report) both post through this: a poster claims the message with a
compare-and-set, posts, then settles it as sent or gives it back; a claim held longer than `reclaim_after` (the
poster died mid-way) can be taken again, so a message is never lost, and the slow poster's settle then changes
nothing. Stamps come from the database's clock, so replicas with skewed clocks agree on what is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ColumnElement, Engine, and_, or_, update

from bot.db import database_now

RECLAIM_AFTER = timedelta(minutes=10)


class OutboxState(StrEnum):
    """Where a row's message stands."""

    NONE = "none"  # nothing to say
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"


@dataclass(frozen=True)
class Outbox:
    """The outbox columns of one table: its key, the message state and when it was claimed."""

    key: Column[Any]
    state: Column[Any]
    claimed_at: Column[Any]
    reclaim_after: timedelta = RECLAIM_AFTER

    def claimable(self, now: datetime) -> ColumnElement[bool]:
        """Rows whose message waits, or whose poster has held it too long (`now` by the database's clock)."""
        return or_(
            self.state == OutboxState.PENDING,
            and_(self.state == OutboxState.SENDING, self.claimed_at < now - self.reclaim_after),
        )

    def claim(self, engine: Engine, key: object) -> datetime | None:
        """Take the right to post the row's message; only one poster gets it. Returns the claim (its stamp, by the
        database's clock) to settle with, or None when someone else holds it or it was posted."""
        with engine.begin() as connection:
            now = database_now(connection)
            changed = connection.execute(
                update(self.key.table)
                .where(self.key == key, self.claimable(now))
                .values({self.state.name: OutboxState.SENDING, self.claimed_at.name: now})
            ).rowcount
        return now if changed == 1 else None

    def settle(self, engine: Engine, key: object, claim: datetime | None, *, delivered: bool, **also: Any) -> bool:
        """Mark the message posted, or give it back for the next attempt; only while `claim` is still the one held
        (a poster that took too long and was reclaimed changes nothing). False when the claim had moved on."""
        state = OutboxState.SENT if delivered else OutboxState.PENDING
        condition = [self.key == key]
        if claim is not None:
            condition += [self.state == OutboxState.SENDING, self.claimed_at == claim]
        with engine.begin() as connection:
            changed = connection.execute(
                update(self.key.table).where(*condition).values({self.state.name: state, **also})
            ).rowcount
        return changed == 1
