"""Early deletions of exports in the database: the request an approver decides, then the deletion's result; every
state change one compare-and-set UPDATE, and the approval enqueues the claimed work in the same transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    RowMapping,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from bot.db import UtcDateTime, database_now, metadata, transaction
from bot.retention.models import GONE, DeletionRequest, DeletionState

DELETION = "export-deletion"  # the claimed-work kind that deletes an approved export's files

export_deletions = Table(
    "export_deletions",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("state", String(16), nullable=False, index=True),
    Column("table_key", String(1024), nullable=False),
    Column("export_id", String(128), nullable=False, index=True),
    Column("export_arn", String(1024)),
    Column("export_type", String(32), nullable=False),
    Column("export_time", UtcDateTime()),
    Column("bucket", String(63), nullable=False),
    Column("folder", String(1024), nullable=False),
    Column("bucket_owner", String(12)),
    Column("object_count", Integer, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("requested_by", String(32), nullable=False),
    Column("channel_id", String(32)),
    Column("approval_channel", String(32)),
    Column("approval_ts", String(32)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("decided_by", String(32)),
    Column("decided_at", UtcDateTime()),
    Column("deleted_objects", Integer),
    Column("kept_objects", Integer),
    Column("outcome", Text),  # in words: what was deleted, what Object Lock kept, why it failed
    Column("finished_at", UtcDateTime()),
)


class DeletionStore:
    """Repository of early deletions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def now(self) -> datetime:
        """The database's clock (replicas agree on expiry)."""
        with self.engine.connect() as connection:
            return database_now(connection)

    def create(self, request: DeletionRequest) -> None:
        """Store a new PENDING request."""
        with self.engine.begin() as connection:
            connection.execute(insert(export_deletions), _values(request))

    def get(self, deletion_id: str, connection: Connection | None = None) -> DeletionRequest | None:
        """One request, or None."""
        query = select(export_deletions).where(export_deletions.c.id == deletion_id)
        with transaction(self.engine, connection) as begun:
            row = begun.execute(query).mappings().first()
        return _request(row) if row else None

    def transition(
        self,
        deletion_id: str,
        expected: str | Collection[str],
        new: str,
        *,
        connection: Connection | None = None,
        not_expired_at: datetime | None = None,
        **changes: Any,
    ) -> bool:
        """`expected` → `new` atomically; False when someone else changed it first."""
        allowed = [expected] if isinstance(expected, str) else list(expected)
        conditions = [export_deletions.c.id == deletion_id, export_deletions.c.state.in_(allowed)]
        if not_expired_at is not None:
            conditions.append(export_deletions.c.expires_at > not_expired_at)
        with transaction(self.engine, connection) as begun:
            changed = begun.execute(update(export_deletions).where(*conditions).values(state=new, **changes)).rowcount
        return bool(changed == 1)

    def gone_export_ids(self) -> set[str]:
        """The exports deleted early (whole or in part): the catalogue no longer offers them."""
        query = select(export_deletions.c.export_id).where(export_deletions.c.state.in_(list(GONE)))
        with self.engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def pending_past(self, now: datetime) -> list[str]:
        """PENDING requests whose time to be decided ran out."""
        query = select(export_deletions.c.id).where(
            export_deletions.c.state == DeletionState.PENDING, export_deletions.c.expires_at <= now
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())


def _values(request: DeletionRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in (column.name for column in export_deletions.columns)}


def _request(row: RowMapping) -> DeletionRequest:
    values = dict(row)
    values["state"] = DeletionState(values["state"])
    return DeletionRequest(**values)
