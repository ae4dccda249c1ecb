"""Verifications in the database: created queued together with their claimed work (bot.background.claims), started
and finished inside the claim's fenced transactions, so exactly one holder records each; the result owes its note."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy import update as sql_update

from bot.background.claims import enqueue_work
from bot.background.notes import NOTE, note_key
from bot.db import DatabaseClock, UtcDateTime, database_now, metadata
from bot.models import ExportType
from bot.verification.models import ACTIVE, ExportTarget, Verification, VerificationStatus
from bot.verification.verify import Failure, VerifyOutcome

verifications = Table(
    "verifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("export_id", String(128), nullable=False),
    Column("target", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("channel_id", String(64)),
    Column("thread_ts", String(32)),
    Column("runner", String(128)),  # unused since work_claims holds the claim
    Column("heartbeat_at", UtcDateTime()),  # unused, as `runner`
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("files", Integer, nullable=False, default=0),
    Column("items", BigInteger, nullable=False, default=0),
    Column("bytes", BigInteger, nullable=False, default=0),
    Column("seconds", Float, nullable=False, default=0.0),
    Column("failures", JSON, nullable=False, default=list),
    Column("failure_count", Integer, nullable=False, default=0),
    Column("reference_at", UtcDateTime()),
    Column("notes", Text, nullable=False, default=""),
)
Index("ix_verifications_export_created", verifications.c.export_id, verifications.c.created_at)
Index("ix_verifications_status", verifications.c.status)
NOTE_SEPARATOR = "\n"
VERIFICATION = "verification"  # the kind of claimed work a verification is, and the topic of its result note


class VerificationStore:
    """Repository of verifications."""

    def __init__(self, engine: Engine, clock: DatabaseClock | None = None) -> None:
        self.engine = engine
        self._now: DatabaseClock = clock or database_now

    def create(self, verification: Verification) -> Verification:
        """Insert a queued verification, stamped by the database's clock, and its claimed work."""
        with self.engine.begin() as connection:
            now = self._now(connection)
            connection.execute(
                insert(verifications),
                {
                    "id": verification.id,
                    "export_id": verification.target.export_id,
                    "target": _target_json(verification.target),
                    "status": VerificationStatus.QUEUED,
                    "requested_by": verification.requested_by,
                    "channel_id": verification.channel_id,
                    "attempts": 0,
                    "created_at": now,
                    "failures": [],
                    "notes": "",
                },
            )
            enqueue_work(connection, VERIFICATION, verification.id)
        stored = self.get(verification.id)
        assert stored is not None
        return stored

    def get(self, verification_id: str) -> Verification | None:
        """One verification by id."""
        found = self._many(verifications.c.id == verification_id, limit=1)
        return found[0] if found else None

    def last_for_export(self, export_id: str) -> Verification | None:
        """The newest verification of an export, finished or not."""
        found = self._many(verifications.c.export_id == export_id, limit=1)
        return found[0] if found else None

    def active(self) -> list[Verification]:
        """Queued and running verifications, oldest first (what a runner looks at each cycle)."""
        return self._many(verifications.c.status.in_(sorted(ACTIVE)), limit=None, newest_first=False)

    def start(self, verification_id: str, connection: Connection) -> None:
        """Queued (or running, taken over) → running, one more attempt, in the claim's fenced transaction."""
        connection.execute(
            sql_update(verifications)
            .where(verifications.c.id == verification_id, verifications.c.status.in_(sorted(ACTIVE)))
            .values(status=VerificationStatus.RUNNING, attempts=verifications.c.attempts + 1)
        )

    def set_thread(self, verification_id: str, thread_ts: str) -> None:
        """Where its progress and result are posted (kept across restarts)."""
        with self.engine.begin() as connection:
            connection.execute(
                sql_update(verifications).where(verifications.c.id == verification_id).values(thread_ts=thread_ts)
            )

    def finish(self, verification_id: str, outcome: VerifyOutcome, connection: Connection) -> bool:
        """Record the result and owe its note, in the claim's final transaction; False when it was not running."""
        status = VerificationStatus.PASSED if outcome.ok else VerificationStatus.FAILED
        values: dict[str, Any] = {
            "status": status,
            "files": outcome.files,
            "items": outcome.items,
            "bytes": outcome.bytes,
            "seconds": outcome.seconds,
            "failures": [asdict(f) for f in outcome.failures],
            "failure_count": outcome.failure_count,
            "reference_at": outcome.reference_at,
            "notes": NOTE_SEPARATOR.join(outcome.notes),
            "finished_at": self._now(connection),
        }
        changed = connection.execute(
            sql_update(verifications)
            .where(verifications.c.id == verification_id, verifications.c.status.in_(sorted(ACTIVE)))
            .values(**values)
        ).rowcount
        if changed == 1:
            enqueue_work(connection, NOTE, note_key(VERIFICATION, verification_id))
        return changed == 1

    def _many(self, condition: Any, *, limit: int | None, newest_first: bool = True) -> list[Verification]:
        order = verifications.c.created_at.desc() if newest_first else verifications.c.created_at.asc()
        query = select(verifications).where(condition).order_by(order, verifications.c.id)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [_verification(row) for row in connection.execute(query).mappings()]


def _target_json(target: ExportTarget) -> dict[str, Any]:
    return {**asdict(target), "export_type": str(target.export_type), "key_names": list(target.key_names)}


def _verification(row: Any) -> Verification:
    target = dict(row["target"])
    target["export_type"] = ExportType(target["export_type"])
    target["key_names"] = tuple(target.get("key_names") or ())
    return Verification(
        id=row["id"],
        target=ExportTarget(**target),
        requested_by=row["requested_by"],
        channel_id=row["channel_id"],
        status=VerificationStatus(row["status"]),
        thread_ts=row["thread_ts"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        files=row["files"],
        items=row["items"],
        bytes=row["bytes"],
        seconds=row["seconds"],
        failures=tuple(Failure(f["file"], f["problem"]) for f in row["failures"] or []),
        failure_count=row["failure_count"],
        reference_at=row["reference_at"],
        notes=tuple(n for n in (row["notes"] or "").split(NOTE_SEPARATOR) if n),
    )
