"""The loader's checkpoints in the bot's database: one row per data file fully written, so restarts skip it."""

from __future__ import annotations

from sqlalchemy import Column, Engine, Integer, Table, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.db import UtcDateTime, metadata
from bot.timefmt import utcnow

load_checkpoints = Table(
    "load_checkpoints",
    metadata,
    Column("restore_id", Text, primary_key=True),
    Column("export_id", Text, primary_key=True),
    Column("file_key", Text, primary_key=True),
    Column("items", Integer, nullable=False),
    Column("deletes", Integer, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
)


class SqlLoadCheckpoints:
    """`bot.loader.LoadCheckpoints` on SQLAlchemy Core; safe to call from the loader's threads."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def finished_files(self, restore_id: str, export_id: str) -> set[str]:
        """Keys of the export's data files already written for this restore."""
        query = select(load_checkpoints.c.file_key).where(
            load_checkpoints.c.restore_id == restore_id, load_checkpoints.c.export_id == export_id
        )
        with self._engine.connect() as connection:
            return set(connection.scalars(query))

    def mark_finished(self, restore_id: str, export_id: str, file_key: str, items: int, deletes: int) -> None:
        """Record a finished file; recording it twice (a file replayed after a crash) keeps the last counts."""
        values = {"items": items, "deletes": deletes, "finished_at": utcnow()}
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(load_checkpoints).values(
                        restore_id=restore_id, export_id=export_id, file_key=file_key, **values
                    )
                )
        except IntegrityError:
            with self._engine.begin() as connection:
                connection.execute(
                    update(load_checkpoints)
                    .where(
                        load_checkpoints.c.restore_id == restore_id,
                        load_checkpoints.c.export_id == export_id,
                        load_checkpoints.c.file_key == file_key,
                    )
                    .values(**values)
                )

    def totals(self, restore_id: str) -> tuple[int, int, int]:
        """(files, items, deletes) written so far for a restore, across runs."""
        columns = load_checkpoints.c  # `c.items` would be the collection's items() method
        query = select(columns["items"], columns["deletes"]).where(columns["restore_id"] == restore_id)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return len(rows), sum(row[0] for row in rows), sum(row[1] for row in rows)

    def forget(self, restore_id: str) -> None:
        """Drop a restore's checkpoints once it is over, so a new restore with the same id starts afresh."""
        with self._engine.begin() as connection:
            connection.execute(delete(load_checkpoints).where(load_checkpoints.c.restore_id == restore_id))
