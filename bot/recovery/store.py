"""Preparations and their repair actions in the bot's database.

Item contents (the states then and now) are private: they are kept here only while needed (to answer the requester,
to show approvers, to write) and `forget_images` drops them once a repair or lookup is over, keeping keys and
outcomes for the report. Outcomes are recorded per batch in the caller's (fenced) transaction, so a repair taken over
after a crash resumes with the keys not yet judged and never writes one twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)

from bot.background.claims import enqueue_work
from bot.background.notes import NOTE, note_key
from bot.db import UtcDateTime, database_now, metadata, transaction
from bot.recovery.actions import Outcome, RepairAction
from bot.recovery.exporting import RecoveryExport
from bot.recovery.keys import ItemKey, KeySchema
from bot.recovery.models import Counts, Kind, Preparation, Source, State
from bot.recovery.writer import Judged

recovery_preparations = Table(
    "recovery_preparations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("channel_id", String(64)),
    Column("table_text", String(1024), nullable=False),
    Column("table_name", String(255), nullable=False),
    Column("table_arn", String(1024), nullable=False),
    Column("account_alias", String(64)),
    Column("region", String(32), nullable=False),
    Column("key_schema", JSON, nullable=False),
    Column("item_key", JSON),
    Column("at", UtcDateTime()),
    Column("as_of", UtcDateTime()),
    Column("since", UtcDateTime()),
    Column("until", UtcDateTime()),
    Column("where_filter", Text),
    Column("rate", JSON),
    Column("exports", JSON, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("request_id", String(32)),
    Column("failure", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
Index("ix_recovery_preparations_state", recovery_preparations.c.state)

recovery_actions = Table(
    "recovery_actions",
    metadata,
    Column("preparation_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("item_key", JSON, nullable=False),
    Column("key_text", Text, nullable=False),
    Column("expected", JSON(none_as_null=True)),
    Column("target", JSON(none_as_null=True)),
    Column("deletes", Boolean, nullable=False),
    Column("dry", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("note", Text),
)

UPDATABLE = {"state", "as_of", "exports", "counts", "request_id", "failure"}
PREPARATION = "recovery"  # the kind of claimed work a preparation is, and the topic of its answer's note


class RecoveryStore:
    """Repository for preparations and their actions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, preparation: Preparation, connection: Connection | None = None) -> Preparation:
        """Insert a new preparation, stamped by the database's clock, and queue it as claimed work in the same
        transaction: it exists exactly when its work does."""
        with transaction(self.engine, connection) as begun:
            now = database_now(begun)
            begun.execute(insert(recovery_preparations).values(**_row(preparation), created_at=now, updated_at=now))
            enqueue_work(begun, PREPARATION, preparation.id)
        return self.get(preparation.id, connection) or preparation

    def finish(self, preparation_id: str, connection: Connection, **changes: Any) -> None:
        """Its final state (answered, requested, failed), with the note that tells the requester, in the claim's
        finishing transaction: the note exists exactly when the state does."""
        self.update(preparation_id, connection, **changes)
        enqueue_work(connection, NOTE, note_key(PREPARATION, preparation_id))

    def get(self, preparation_id: str, connection: Connection | None = None) -> Preparation | None:
        """One preparation by id."""
        with transaction(self.engine, connection) as begun:
            row = (
                begun.execute(select(recovery_preparations).where(recovery_preparations.c.id == preparation_id))
                .mappings()
                .first()
            )
        return _preparation(row) if row is not None else None

    def update(self, preparation_id: str, connection: Connection | None = None, **changes: Any) -> None:
        """Change what the preparation found (state, exports, counts, request, failure)."""
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not an updatable field: {sorted(unknown)}")
        values = dict(changes)
        if "exports" in values:
            values["exports"] = [e.as_dict() for e in values["exports"]]
        if "counts" in values:
            values["counts"] = values["counts"].as_dict()
        with transaction(self.engine, connection) as begun:
            values["updated_at"] = database_now(begun)
            begun.execute(
                update(recovery_preparations).where(recovery_preparations.c.id == preparation_id).values(**values)
            )

    def export_arns(self) -> set[str]:
        """Every export a recovery started or read: partial exports (a partition, a window's changes), never backups."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(recovery_preparations.c.exports).where(recovery_preparations.c.source == Source.PITR)
            ).scalars()
            return {str(export["arn"]) for exports in rows for export in exports or []}

    def in_state(self, state: State) -> list[Preparation]:
        """Preparations in one state, oldest first."""
        query = (
            select(recovery_preparations)
            .where(recovery_preparations.c.state == state)
            .order_by(recovery_preparations.c.created_at.asc())
        )
        with self.engine.connect() as connection:
            return [_preparation(row) for row in connection.execute(query).mappings()]

    # -------------------------------------------------------------------------------------------- actions

    def set_actions(
        self, preparation_id: str, actions: Sequence[tuple[RepairAction, Outcome]], connection: Connection | None = None
    ) -> None:
        """Replace the preparation's actions, each with its dry-run verdict."""
        with transaction(self.engine, connection) as begun:
            begun.execute(delete(recovery_actions).where(recovery_actions.c.preparation_id == preparation_id))
            rows = [
                {
                    "preparation_id": preparation_id,
                    "seq": action.seq,
                    "item_key": action.key,
                    "key_text": action.key_text,
                    "expected": action.expected,
                    "target": action.target,
                    "deletes": action.deletes,
                    "dry": dry,
                    "outcome": Outcome.PENDING,
                    "note": None,
                }
                for action, dry in actions
            ]
            for start in range(0, len(rows), 1000):
                begun.execute(insert(recovery_actions), rows[start : start + 1000])

    def actions(
        self, preparation_id: str, *, pending: bool = False, after: int = -1, limit: int | None = None
    ) -> list[RepairAction]:
        """The actions in order (only those not yet judged, with `pending`), from `after` on."""
        query = (
            select(recovery_actions)
            .where(recovery_actions.c.preparation_id == preparation_id, recovery_actions.c.seq > after)
            .order_by(recovery_actions.c.seq.asc())
        )
        if pending:
            query = query.where(recovery_actions.c.outcome == Outcome.PENDING)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [_action(row) for row in connection.execute(query).mappings()]

    def each_action(self, preparation_id: str, page: int = 2000) -> Iterator[RepairAction]:
        """Every action in order, read a page at a time (a revert's may not fit in memory at once)."""
        after = -1
        while batch := self.actions(preparation_id, after=after, limit=page):
            yield from batch
            after = batch[-1].seq

    def verdicts(
        self,
        preparation_id: str,
        outcomes: Iterable[Outcome],
        *,
        dry: bool = False,
        deletes: bool | None = None,
        limit: int = 50,
    ) -> list[tuple[str, str, str]]:
        """(key text, outcome, note) of the first `limit` actions with one of `outcomes` (the dry run's, with
        `dry`; only deletions or only puts, with `deletes`): keys and attribute names only, for reports and samples."""
        column = recovery_actions.c.dry if dry else recovery_actions.c.outcome
        query = (
            select(recovery_actions.c.key_text, column, recovery_actions.c.note)
            .where(recovery_actions.c.preparation_id == preparation_id, column.in_([str(o) for o in outcomes]))
            .order_by(recovery_actions.c.seq.asc())
            .limit(limit)
        )
        if deletes is not None:
            query = query.where(recovery_actions.c.deletes.is_(deletes))
        with self.engine.connect() as connection:
            return [(row[0], row[1], row[2] or "") for row in connection.execute(query)]

    def tally(self, preparation_id: str, *, deletes: bool | None = None) -> dict[str, int]:
        """How many actions have each outcome so far (of the deletions only, or the puts only, with `deletes`)."""
        query = (
            select(recovery_actions.c.outcome, func.count())
            .where(recovery_actions.c.preparation_id == preparation_id)
            .group_by(recovery_actions.c.outcome)
        )
        if deletes is not None:
            query = query.where(recovery_actions.c.deletes.is_(deletes))
        with self.engine.connect() as connection:
            return {str(row[0]): int(row[1]) for row in connection.execute(query)}

    def record_outcomes(self, preparation_id: str, judged: Sequence[Judged], connection: Connection) -> None:
        """Each action's outcome, in the caller's (fenced) transaction: the repair's checkpoint."""
        for verdict in judged:
            connection.execute(
                update(recovery_actions)
                .where(recovery_actions.c.preparation_id == preparation_id, recovery_actions.c.seq == verdict.seq)
                .values(outcome=verdict.outcome, note=verdict.note or None)
            )

    def forget_images(self, preparation_id: str, connection: Connection | None = None) -> None:
        """Drop the item contents once they are no longer needed; keys and outcomes stay for the report."""
        with transaction(self.engine, connection) as begun:
            begun.execute(
                update(recovery_actions)
                .where(recovery_actions.c.preparation_id == preparation_id)
                .values(expected=None, target=None)
            )


def _row(preparation: Preparation) -> dict[str, Any]:
    return {
        "id": preparation.id,
        "kind": preparation.kind,
        "state": preparation.state,
        "source": preparation.source,
        "requested_by": preparation.requested_by,
        "channel_id": preparation.channel_id,
        "table_text": preparation.table,
        "table_name": preparation.table_name,
        "table_arn": preparation.table_arn,
        "account_alias": preparation.account_alias,
        "region": preparation.region,
        "key_schema": preparation.schema.as_dict(),
        "item_key": preparation.key.as_dict() if preparation.key else None,
        "at": preparation.at,
        "as_of": preparation.as_of,
        "since": preparation.since,
        "until": preparation.until,
        "where_filter": preparation.where,
        "rate": preparation.rate,
        "exports": [e.as_dict() for e in preparation.exports],
        "counts": preparation.counts.as_dict(),
        "request_id": preparation.request_id,
        "failure": preparation.failure,
    }


def _preparation(row: Any) -> Preparation:
    return Preparation(
        id=row["id"],
        kind=Kind(row["kind"]),
        state=State(row["state"]),
        source=Source(row["source"]),
        requested_by=row["requested_by"],
        channel_id=row["channel_id"],
        table=row["table_text"],
        table_name=row["table_name"],
        table_arn=row["table_arn"],
        account_alias=row["account_alias"],
        region=row["region"],
        schema=KeySchema.from_dict(row["key_schema"]),
        key=ItemKey.from_dict(row["item_key"]) if row["item_key"] else None,
        at=row["at"],
        as_of=row["as_of"],
        since=row["since"],
        until=row["until"],
        where=row["where_filter"],
        rate=row["rate"],
        exports=tuple(RecoveryExport.from_dict(e) for e in row["exports"] or []),
        counts=Counts.from_dict(row["counts"]),
        request_id=row["request_id"],
        failure=row["failure"],
        created_at=row["created_at"],
    )


def _action(row: Any) -> RepairAction:
    return RepairAction(row["seq"], row["item_key"], row["key_text"], row["expected"], row["target"])
