"""The loader's checkpoints in the bot's database: one row per data file fully written, so a later run skips it.

They are kept by the load's key (the plan's exports and target, `load_key`), not by the request: a failed load
asked for again, in a new request with the same exports and target, continues after the files already written.
A load that ends forgets them, so the next restore of the same exports writes everything again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Engine, Integer, Table, Text, Update, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.db import UtcDateTime, metadata
from bot.timefmt import utcnow

load_checkpoints = Table(
    "load_checkpoints",
    metadata,
    Column("load_key", Text, primary_key=True),
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

    def finished_files(self, load_key: str, export_id: str) -> dict[str, tuple[int, int]]:
        """The export's data files already written for this load: key → (items put, items deleted)."""
        columns = load_checkpoints.c  # `c.items` would be the collection's items() method
        query = select(columns["file_key"], columns["items"], columns["deletes"]).where(
            columns["load_key"] == load_key, columns["export_id"] == export_id
        )
        with self._engine.connect() as connection:
            return {row[0]: (row[1], row[2]) for row in connection.execute(query)}

    def mark_finished(
        self,
        load_key: str,
        export_id: str,
        file_key: str,
        items: int,
        deletes: int,
        *,
        connection: Connection | None = None,
    ) -> None:
        """Record a finished file; recording it twice (a file replayed after a crash) keeps the last counts. In
        `connection` (the claim's fenced transaction, where only the claim's holder writes the load's rows), it
        commits with that transaction or not at all."""
        values = {"items": items, "deletes": deletes, "finished_at": utcnow()}
        row = {"load_key": load_key, "export_id": export_id, "file_key": file_key}
        if connection is not None:
            if connection.execute(_update_row(row, values)).rowcount == 0:
                connection.execute(insert(load_checkpoints).values(**row, **values))
            return
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(load_checkpoints).values(**row, **values))
        except IntegrityError:
            with self._engine.begin() as connection:
                connection.execute(_update_row(row, values))

    def totals(self, load_key: str) -> tuple[int, int, int]:
        """(files, items, deletes) written so far for a load, across runs and requests."""
        columns = load_checkpoints.c
        query = select(columns["items"], columns["deletes"]).where(columns["load_key"] == load_key)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return len(rows), sum(row[0] for row in rows), sum(row[1] for row in rows)

    def forget(self, load_key: str, *, connection: Connection | None = None) -> None:
        """Drop a load's checkpoints once it ended, so the next restore of the same exports starts afresh (in
        `connection`, the claim's fenced transaction, when given)."""
        statement = delete(load_checkpoints).where(load_checkpoints.c.load_key == load_key)
        if connection is not None:
            connection.execute(statement)
            return
        with self._engine.begin() as connection:
            connection.execute(statement)


def _update_row(row: dict[str, str], values: dict[str, Any]) -> Update:
    columns = load_checkpoints.c
    return update(load_checkpoints).where(*(columns[name] == value for name, value in row.items())).values(**values)
