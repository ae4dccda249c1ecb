"""Verifications in the database: created queued, claimed by one runner at a time (compare-and-set, stamped by the
database's clock), heartbeated while they run, finished exactly once by the runner that holds them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Engine, Float, Index, Integer, String, Table, Text, insert, or_, select
from sqlalchemy import update as sql_update

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
    Column("runner", String(128)),
    Column("heartbeat_at", UtcDateTime()),
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


class VerificationStore:
    """Repository of verifications."""

    def __init__(self, engine: Engine, clock: DatabaseClock | None = None) -> None:
        self.engine = engine
        self._now: DatabaseClock = clock or database_now

    def create(self, verification: Verification) -> Verification:
        """Insert a queued verification, stamped by the database's clock."""
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

    def claim(self, verification_id: str, runner: str, stale_after: timedelta) -> bool:
        """Take an active verification: unclaimed, ours, or its holder silent for `stale_after` (database clock).
        One compare-and-set, so two runners never both win; a claim taken over counts as a new attempt."""
        with self.engine.begin() as connection:
            now = self._now(connection)
            changed = connection.execute(
                sql_update(verifications)
                .where(
                    verifications.c.id == verification_id,
                    verifications.c.status.in_(sorted(ACTIVE)),
                    or_(
                        verifications.c.runner.is_(None),
                        verifications.c.runner == runner,
                        verifications.c.heartbeat_at < now - stale_after,
                    ),
                )
                .values(
                    runner=runner,
                    heartbeat_at=now,
                    status=VerificationStatus.RUNNING,
                    attempts=verifications.c.attempts + 1,
                )
            ).rowcount
        return changed == 1

    def heartbeat(self, verification_id: str, runner: str) -> bool:
        """Keep the claim alive; False when another runner holds it now (the work must stop)."""
        return self._update(verification_id, runner, heartbeat_at=None)

    def release(self, verification_id: str, runner: str) -> bool:
        """Give the claim back on a clean stop, so the next runner resumes it at once."""
        return self._update(verification_id, runner, runner=None, heartbeat_at=None, clear=True)

    def set_thread(self, verification_id: str, thread_ts: str) -> None:
        """Where its progress and result are posted (kept across restarts)."""
        with self.engine.begin() as connection:
            connection.execute(
                sql_update(verifications).where(verifications.c.id == verification_id).values(thread_ts=thread_ts)
            )

    def finish(self, verification_id: str, runner: str, outcome: VerifyOutcome) -> Verification | None:
        """Record the result, only while `runner` holds the claim; the finished verification, or None."""
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
            "runner": None,
        }
        with self.engine.begin() as connection:
            values["finished_at"] = self._now(connection)
            changed = connection.execute(
                sql_update(verifications)
                .where(
                    verifications.c.id == verification_id,
                    verifications.c.runner == runner,
                    verifications.c.status == VerificationStatus.RUNNING,
                )
                .values(**values)
            ).rowcount
        return self.get(verification_id) if changed == 1 else None

    def _update(self, verification_id: str, holder: str, *, clear: bool = False, **values: Any) -> bool:
        with self.engine.begin() as connection:
            if not clear:
                values["heartbeat_at"] = self._now(connection)
            changed = connection.execute(
                sql_update(verifications)
                .where(
                    verifications.c.id == verification_id,
                    verifications.c.runner == holder,
                    verifications.c.status.in_(sorted(ACTIVE)),
                )
                .values(**values)
            ).rowcount
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
