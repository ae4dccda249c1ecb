"""What a person is shown of items: each key's state then beside its state now, and what differs.

Values are private: an ItemView goes only to the requester (a direct message) or, on request, to an approver (an
ephemeral reply); channel messages are built from a preparation's keys, counts and attribute names alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.recovery.actions import RepairAction
from bot.recovery.diff import ItemChange, change_between
from bot.recovery.models import Kind, Preparation

MAX_ROWS = 20  # a chat answer shows at most this many items; the rest are counted


@dataclass(frozen=True)
class ItemRow:
    """One key: its state then (None: absent), now (None: absent) and what changed from then to now."""

    key_text: str
    then: dict[str, Any] | None
    now: dict[str, Any] | None
    change: ItemChange


@dataclass(frozen=True)
class ItemView:
    """The rows shown, how many more there are, and the preparation they belong to."""

    preparation: Preparation
    rows: tuple[ItemRow, ...]
    more: int = 0
    restorable: bool = False  # offer "Restore this version" (an item lookup whose state differs from now)

    @property
    def then_label(self) -> str:
        """What "then" means here: the time asked for, or the window's start."""
        return "before the window" if self.preparation.kind == Kind.REVERT else "then"


def item_view(preparation: Preparation, actions: Sequence[RepairAction], limit: int = MAX_ROWS) -> ItemView:
    """The view of a preparation's actions: the state each repair goes back to ("then") beside the state it expects
    to find ("now": the live item when it was read, or a window's end state)."""
    rows = tuple(
        ItemRow(action.key_text, action.target, action.expected, change_between(action.target, action.expected))
        for action in actions[:limit]
    )
    differs = any(not row.change.none for row in rows)
    return ItemView(preparation, rows, max(0, len(actions) - limit), preparation.kind == Kind.ITEM and differs)
