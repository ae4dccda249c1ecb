"""The plan options of repairs in place (`/ddb-recover`, `/ddb-revert`): which prepared actions are written, bound to
the plan hash by their digest (every key's expected state and what is written), and the exports they came from.

The actions themselves live with their preparation (bot/recovery's store), not in the plan: a revert may hold
100,000 items, and an item's contents must not travel into audit entries and logs, where plans are recorded. The
digest makes any change to them after approval a refusal to run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.restores.rate import WriteCeiling


@dataclass(frozen=True)
class RepairOptions:
    """Write the preparation's actions into the table (conditionally, each under its own expected state)."""

    preparation: str
    key_schema: dict[str, str]  # {name: type}, partition key first
    exports: tuple[str, ...]  # the export ARNs the actions were read from
    actions_digest: str
    actions: int
    puts: int
    deletes: int
    item_key: str | None = None  # /ddb-recover: the item or partition, as text
    at: datetime | None = None  # /ddb-recover: the time it goes back to (the state's own time, when older)
    since: datetime | None = None  # /ddb-revert: the window undone
    until: datetime | None = None
    where: str | None = None  # /ddb-revert's filter, as written
    ceiling: WriteCeiling | None = None  # `rate=`

    def as_dict(self) -> dict[str, Any]:
        """As stored in the plan."""
        data: dict[str, Any] = {
            "preparation": self.preparation,
            "key_schema": dict(self.key_schema),
            "exports": list(self.exports),
            "actions_digest": self.actions_digest,
            "actions": self.actions,
            "puts": self.puts,
            "deletes": self.deletes,
        }
        optional: dict[str, Any] = {
            "item_key": self.item_key,
            "at": self.at.isoformat() if self.at else None,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "where": self.where,
            "rate": self.ceiling.as_dict() if self.ceiling else None,
        }
        data.update({name: value for name, value in optional.items() if value is not None})
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RepairOptions:
        """Rebuild from a stored plan."""
        rate = data.get("rate")
        return cls(
            preparation=str(data["preparation"]),
            key_schema={str(k): str(v) for k, v in (data.get("key_schema") or {}).items()},
            exports=tuple(str(arn) for arn in data.get("exports") or ()),
            actions_digest=str(data.get("actions_digest") or ""),
            actions=int(data.get("actions") or 0),
            puts=int(data.get("puts") or 0),
            deletes=int(data.get("deletes") or 0),
            item_key=data.get("item_key"),
            at=_time(data.get("at")),
            since=_time(data.get("since")),
            until=_time(data.get("until")),
            where=data.get("where"),
            ceiling=WriteCeiling.from_dict(rate) if rate else None,
        )


def _time(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None
