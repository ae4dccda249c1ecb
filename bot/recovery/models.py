"""A preparation: what `/ddb-item`, `/ddb-recover` or `/ddb-revert` asked for, the exports started (or found) to
answer it, and where it stands, from the exports running to the answer posted or the request put up for approval."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.recovery.exporting import RecoveryExport
from bot.recovery.keys import ItemKey, KeySchema


class Kind(StrEnum):
    """What the preparation ends in: an answer to the requester, or a request for approval."""

    ITEM = "item"  # /ddb-item: the item(s) then and now, shown to the requester
    RECOVER = "recover"  # /ddb-recover (or Restore this version): a request to put the key back as it was
    REVERT = "revert"  # /ddb-revert: a request to undo the window


class State(StrEnum):
    """EXPORTING → (the exports done) → ANSWERED (item) or REQUESTED (recover, revert); FAILED when it cannot."""

    EXPORTING = "exporting"
    ANSWERED = "answered"
    REQUESTED = "requested"
    FAILED = "failed"


class Source(StrEnum):
    """Where the state comes from: exports the bot starts now (inside the PITR window), or exports it already has."""

    PITR = "pitr"
    EXPORTS = "exports"


FINAL = frozenset({State.ANSWERED, State.REQUESTED, State.FAILED})


@dataclass(frozen=True)
class Counts:
    """A dry run's verdicts: what the repair would do to each key now."""

    puts: int = 0  # items put back (they existed then)
    deletes: int = 0  # items deleted (they did not exist then)
    conflicts: int = 0  # changed since: left alone
    unchanged: int = 0  # already as they should end
    uncheckable: int = 0  # no exact condition possible: listed, not written

    @property
    def total(self) -> int:
        """Every key the repair considers."""
        return self.puts + self.deletes + self.conflicts + self.unchanged + self.uncheckable

    def as_dict(self) -> dict[str, int]:
        """For the record."""
        return {
            "puts": self.puts,
            "deletes": self.deletes,
            "conflicts": self.conflicts,
            "unchanged": self.unchanged,
            "uncheckable": self.uncheckable,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Counts:
        """Rebuild from the record."""
        return cls(**{k: int(v) for k, v in (data or {}).items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Preparation:
    """One lookup or repair being prepared (times are UTC)."""

    id: str
    kind: Kind
    state: State
    source: Source
    requested_by: str
    channel_id: str | None
    table: str  # as the user wrote it (alias:name or ARN)
    table_name: str
    table_arn: str
    account_alias: str | None
    region: str
    schema: KeySchema
    key: ItemKey | None = None  # /ddb-item, /ddb-recover
    at: datetime | None = None  # /ddb-item, /ddb-recover: the time asked for
    as_of: datetime | None = None  # the time the state shown is of (older than PITR: the latest the exports reach)
    since: datetime | None = None  # /ddb-revert
    until: datetime | None = None
    where: str | None = None  # /ddb-revert's filter as written
    rate: dict[str, Any] | None = None  # /ddb-revert's `rate=` as a WriteCeiling's dict
    exports: tuple[RecoveryExport, ...] = ()
    counts: Counts = field(default_factory=Counts)
    request_id: str | None = None
    failure: str | None = None
    created_at: datetime | None = None

    @property
    def table_display(self) -> str:
        """The table as the user wrote it."""
        return self.table


def new_preparation_id() -> str:
    """A short id people can quote: `v-` and 10 hex digits."""
    return f"v-{secrets.token_hex(5)}"
