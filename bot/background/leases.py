"""A lease row in the database: whoever holds it unexpired is the one replica that runs background work.

Every change is a compare-and-set on (name, holder, expires_at), and times come from one clock: PostgreSQL's
own `clock_timestamp()` when replicas share a server, the host's UTC clock for SQLite (a single host).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Engine, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.db import DatabaseClock, UtcDateTime, database_now, metadata

logger = logging.getLogger(__name__)

leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("acquired_at", UtcDateTime(), nullable=False),
)


@dataclass(frozen=True)
class Lease:
    """A lease as held: renewing needs the exact `expires_at` last written."""

    name: str
    holder: str
    expires_at: datetime
    acquired_at: datetime


"""What time it is for rows every replica compares: read inside the transaction that writes or compares them."""


class LeaseStore:
    """Acquire, renew and release named leases; `clock` is the database's (tests give a settable one)."""

    def __init__(self, engine: Engine, clock: DatabaseClock | None = None) -> None:
        self.engine = engine
        self._now: DatabaseClock = clock or database_now

    def acquire(self, name: str, holder: str, ttl: timedelta) -> Lease | None:
        """Take the lease when it is free, expired, or already ours; None when another holder has it."""
        with self.engine.begin() as connection:
            now = self._now(connection)
            row = connection.execute(select(leases).where(leases.c.name == name)).mappings().first()
            if row is not None:
                if row["holder"] != holder and row["expires_at"] > now:
                    return None
                acquired_at = row["acquired_at"] if row["holder"] == holder else now
                taken = connection.execute(
                    update(leases)
                    .where(
                        leases.c.name == name,
                        leases.c.holder == row["holder"],
                        leases.c.expires_at == row["expires_at"],
                    )
                    .values(holder=holder, expires_at=now + ttl, acquired_at=acquired_at)
                ).rowcount
        if row is None:
            return self._insert(name, holder, ttl)
        if taken != 1:
            return None
        if row["holder"] != holder:
            logger.info("lease.taken_over", extra={"lease": name, "holder": holder, "previous_holder": row["holder"]})
        return Lease(name, holder, now + ttl, acquired_at)

    def renew(self, lease: Lease, ttl: timedelta) -> Lease | None:
        """Push the expiry forward; None when the lease was taken over (or released) meanwhile."""
        now = self._move_expiry(lease, ttl)
        return Lease(lease.name, lease.holder, now + ttl, lease.acquired_at) if now is not None else None

    def release(self, lease: Lease) -> bool:
        """Expire the lease now so another replica takes over without waiting (a clean shutdown)."""
        return self._move_expiry(lease, timedelta(0)) is not None

    def _move_expiry(self, lease: Lease, ttl: timedelta) -> datetime | None:
        """Compare-and-set the expiry to (database) now + ttl; the now used, or None when the lease changed."""
        with self.engine.begin() as connection:
            now = self._now(connection)
            moved = connection.execute(
                update(leases)
                .where(
                    leases.c.name == lease.name,
                    leases.c.holder == lease.holder,
                    leases.c.expires_at == lease.expires_at,
                )
                .values(expires_at=now + ttl)
            ).rowcount
        return now if moved == 1 else None

    def holder(self, name: str) -> Lease | None:
        """The current lease row, expired or not (for status and tests)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(leases).where(leases.c.name == name)).mappings().first()
        return Lease(row["name"], row["holder"], row["expires_at"], row["acquired_at"]) if row else None

    def _insert(self, name: str, holder: str, ttl: timedelta) -> Lease | None:
        try:
            with self.engine.begin() as connection:
                now = self._now(connection)
                connection.execute(
                    insert(leases).values(name=name, holder=holder, expires_at=now + ttl, acquired_at=now)
                )
        except IntegrityError:
            return None
        logger.info("lease.acquired", extra={"lease": name, "holder": holder})
        return Lease(name, holder, now + ttl, now)
