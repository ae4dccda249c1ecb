"""Drills in the database: queued together with their claimed work (bot.background.claims), started, their import
(a PITR drill: its restored table) recorded and finished inside the claim's fenced transactions; a table's finished
drills are its drill history. A PITR drill's moment lives in its spec, as ISO text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, Engine, Index, Integer, String, Table, Text, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError

from bot.background.claims import enqueue_work
from bot.background.notes import NOTE, note_key
from bot.db import DatabaseClock, UtcDateTime, database_now, metadata
from bot.drills.models import ACTIVE_DRILLS, Drill, DrillResult, DrillSpec, DrillStatus
from bot.models import ExportType
from bot.verification.models import ExportTarget

drills = Table(
    "drills",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("table_key", String(600), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("channel_id", String(64)),
    Column("import_arn", Text),
    Column("runner", String(128)),  # unused since work_claims holds the claim
    Column("heartbeat_at", UtcDateTime()),  # unused, as `runner`
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("result", JSON, nullable=False, default=dict),
)
Index("ix_drills_table_created", drills.c.table_key, drills.c.created_at)
Index("ix_drills_status", drills.c.status)


DRILL_QUEUE_LOCK = 0x0DD8_D811
BATCH = 500  # table keys per query: far below SQLite's and PostgreSQL's bound-parameter limits
DRILL = "drill"  # the kind of claimed work a drill is, and the topic of its result note


class _TooMany(Exception):
    """Rolls back a drill that would exceed the maximum."""


class DrillStore:
    """Repository of drills."""

    def __init__(self, engine: Engine, clock: DatabaseClock | None = None) -> None:
        self.engine = engine
        self._now: DatabaseClock = clock or database_now

    def create(self, drill: Drill, max_active: int) -> Drill | None:
        """Insert a queued drill and its claimed work unless `max_active` drills are queued or running already (None
        then); a drill whose id is known already is that drill (a schedule's fire queues its drill once).

        The row is inserted first and counted with the others in the same transaction: SQLite's write lock (taken by
        the insert) and PostgreSQL's advisory lock make concurrent requests take turns, so the count is never stale.
        """
        known = self.get(drill.id)
        if known is not None:
            return known
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(select(func.pg_advisory_xact_lock(DRILL_QUEUE_LOCK)))
                connection.execute(
                    insert(drills),
                    {
                        "id": drill.id,
                        "table_key": drill.spec.table_key,
                        "spec": _spec_json(drill.spec),
                        "status": DrillStatus.QUEUED,
                        "requested_by": drill.requested_by,
                        "channel_id": drill.channel_id,
                        "attempts": 0,
                        "created_at": self._now(connection),
                        "result": {},
                    },
                )
                active = connection.execute(
                    select(func.count()).select_from(drills).where(drills.c.status.in_(sorted(ACTIVE_DRILLS)))
                ).scalar_one()
                if active > max_active:
                    raise _TooMany
                enqueue_work(connection, DRILL, drill.id)
        except _TooMany:
            return None
        except IntegrityError:
            return self.get(drill.id)  # queued by a concurrent request with the same id
        return self.get(drill.id)

    def get(self, drill_id: str) -> Drill | None:
        """One drill by id."""
        found = self._many(drills.c.id == drill_id, limit=1)
        return found[0] if found else None

    def active(self) -> list[Drill]:
        """Queued and running drills, oldest first."""
        return self._many(drills.c.status.in_(sorted(ACTIVE_DRILLS)), limit=None, newest_first=False)

    def history(self, table_key: str, limit: int = 10) -> list[Drill]:
        """A table's drills, newest first."""
        return self._many(drills.c.table_key == table_key, limit=limit)

    def newest_by_table(self) -> dict[str, Drill]:
        """Each table's newest drill, by table key, in one query (a survey of 5,000 tables asks once, not per table);
        ties on the creation time go to the lower id, as `history` orders them."""
        rank = (
            func.row_number()
            .over(partition_by=drills.c.table_key, order_by=(drills.c.created_at.desc(), drills.c.id))
            .label("rank")
        )
        ranked = select(drills, rank).subquery()
        query = select(*(ranked.c[column.name] for column in drills.columns)).where(ranked.c.rank == 1)
        with self.engine.connect() as connection:
            return {row["table_key"]: _drill(row) for row in connection.execute(query).mappings()}

    def last_passed(self, table_keys: Iterable[str], per_table: int = 5) -> dict[str, list[Drill]]:
        """The newest passed drills of each table (at most `per_table`, newest first), in one query per BATCH tables:
        what the controls of a whole estate judge a restore proven from."""
        found: dict[str, list[Drill]] = {}
        keys = list(dict.fromkeys(table_keys))
        for first in range(0, len(keys), BATCH):
            newest = (drills.c.finished_at.desc(), drills.c.id)
            rank = func.row_number().over(partition_by=drills.c.table_key, order_by=newest).label("rank")
            ranked = (
                select(drills, rank)
                .where(drills.c.table_key.in_(keys[first : first + BATCH]), drills.c.status == DrillStatus.PASSED)
                .subquery()
            )
            query = (
                select(*(ranked.c[c.name] for c in drills.columns))
                .where(ranked.c.rank <= per_table)
                .order_by(ranked.c.table_key, ranked.c.rank)
            )
            with self.engine.connect() as connection:
                for row in connection.execute(query).mappings():
                    found.setdefault(str(row["table_key"]), []).append(_drill(row))
        return found

    def start(self, drill_id: str, connection: Connection) -> None:
        """Queued (or running, taken over) → running, one more attempt, in the claim's fenced transaction."""
        connection.execute(
            sql_update(drills)
            .where(drills.c.id == drill_id, drills.c.status.in_(sorted(ACTIVE_DRILLS)))
            .values(status=DrillStatus.RUNNING, attempts=drills.c.attempts + 1)
        )

    def record_import(self, drill_id: str, import_arn: str, connection: Connection) -> None:
        """The ImportArn DynamoDB answered (a PITR drill: the restored table's ARN), so a holder taking over follows
        it instead of importing (restoring) again."""
        connection.execute(sql_update(drills).where(drills.c.id == drill_id).values(import_arn=import_arn))

    def record_proof(self, drill_id: str, result: DrillResult, connection: Connection) -> None:
        """What the checks found, kept before the table is deleted (the drill still running)."""
        connection.execute(sql_update(drills).where(drills.c.id == drill_id).values(result=asdict(result)))

    def finish(self, drill_id: str, result: DrillResult, connection: Connection) -> bool:
        """Record the result and owe its note, in the claim's final transaction; False when it was not active."""
        status = DrillStatus.PASSED if result.failure is None else DrillStatus.FAILED
        changed = connection.execute(
            sql_update(drills)
            .where(drills.c.id == drill_id, drills.c.status.in_(sorted(ACTIVE_DRILLS)))
            .values(status=status, result=asdict(result), finished_at=self._now(connection))
        ).rowcount
        if changed == 1:
            enqueue_work(connection, NOTE, note_key(DRILL, drill_id))
        return changed == 1

    def _many(self, condition: Any, *, limit: int | None, newest_first: bool = True) -> list[Drill]:
        order = drills.c.created_at.desc() if newest_first else drills.c.created_at.asc()
        query = select(drills).where(condition).order_by(order, drills.c.id)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [_drill(row) for row in connection.execute(query).mappings()]


def _spec_json(spec: DrillSpec) -> dict[str, Any]:
    values = asdict(spec)
    values["export"] = _export_json(spec.export)
    values["pitr_at"] = spec.pitr_at.isoformat() if spec.pitr_at else None
    return values


def _export_json(export: ExportTarget | None) -> dict[str, Any] | None:
    if export is None:
        return None
    return {**asdict(export), "export_type": str(export.export_type), "key_names": list(export.key_names)}


def _export(stored: dict[str, Any] | None) -> ExportTarget | None:
    if stored is None:
        return None
    export = dict(stored)
    export["export_type"] = ExportType(export["export_type"])
    export["key_names"] = tuple(export.get("key_names") or ())
    return ExportTarget(**export)


def _drill(row: Any) -> Drill:
    spec = dict(row["spec"])
    export = _export(spec.pop("export"))
    moment = spec.pop("pitr_at", None)
    spec["pitr_at"] = datetime.fromisoformat(moment) if moment else None
    result = dict(row["result"] or {})
    for name in ("differences", "notes"):
        result[name] = tuple(result.get(name) or ())
    return Drill(
        id=row["id"],
        spec=DrillSpec(export=export, **spec),
        requested_by=row["requested_by"],
        channel_id=row["channel_id"],
        status=DrillStatus(row["status"]),
        import_arn=row["import_arn"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        result=DrillResult(**result),
    )
