"""The note columns of a feature's table: whether its row owes people a message (pending) or told them (sent).

The message itself is claimed work (bot.background.notes): `owe` marks the row and enqueues its note in the
caller's transaction, the note's poster posts it, and `told` marks the row in the transaction that settles the note.
Exports (their result) and schedule runs (their report) keep their messages this way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Connection, update

from bot.background.claims import enqueue_work
from bot.background.notes import NOTE, edition_payload, note_key


class OutboxState(StrEnum):
    """Where a row's message stands."""

    NONE = "none"  # nothing to say
    PENDING = "pending"
    SENT = "sent"


@dataclass(frozen=True)
class Outbox:
    """A table's note: its topic (the note key's prefix), the row's key column and its state column."""

    topic: str
    key: Column[Any]
    state: Column[Any]
    parse: Callable[[str], object] = str  # a note's subject back to the key column's type

    def owe(self, connection: Connection, key: object, **also: Any) -> None:
        """The row has (new) news: mark it pending (with `also`) and enqueue its note, in the caller's transaction: a
        new edition, delivered anew to every channel even where an earlier edition was."""
        connection.execute(
            update(self.key.table).where(self.key == key).values({self.state.name: OutboxState.PENDING, **also})
        )
        edition = edition_payload(uuid.uuid4().hex[:16])
        enqueue_work(connection, NOTE, note_key(self.topic, key), payload=edition, again=True)

    def told(self, connection: Connection, subject: str) -> None:
        """The note about `subject` was posted."""
        connection.execute(
            update(self.key.table).where(self.key == self.parse(subject)).values({self.state.name: OutboxState.SENT})
        )
