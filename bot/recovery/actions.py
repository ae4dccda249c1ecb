"""One repair per key: the state the live item must still be in for the write to go ahead, and the state to leave.

`/ddb-recover` expects what the approver was shown live and leaves the item as it was at `at`; `/ddb-revert` expects
what the window left (the export's NewImage) and leaves what was there before it (OldImage). Either way the live item
decides, at write time: already as it should end → unchanged (not a conflict); still as expected → written under a
condition; anything else → a conflict, left alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

from bot.recovery.diff import same_item

Item = Mapping[str, Any]


class Outcome(StrEnum):
    """What happened (or, in a dry run, would happen) to one key."""

    PENDING = "pending"
    WRITE = "write"  # dry run: the live item is as expected, so it would be written
    WRITTEN = "written"  # put back or deleted under its condition
    UNCHANGED = "unchanged"  # already as it should end: nothing to write
    CONFLICT = "conflict"  # changed by someone after what was shown (or after the window): left alone
    UNCHECKABLE = "uncheckable"  # DynamoDB's limits cannot state its condition: listed, not written
    REFUSED = "refused"  # DynamoDB refused the write (the item's values): listed, not written


DONE = frozenset({Outcome.WRITTEN, Outcome.UNCHANGED})
LEFT_ALONE = frozenset({Outcome.CONFLICT, Outcome.UNCHECKABLE, Outcome.REFUSED})


@dataclass(frozen=True)
class RepairAction:
    """Key `key` must be `expected` (None: absent) for `target` to be written (None: deleted)."""

    seq: int
    key: dict[str, Any]
    key_text: str
    expected: dict[str, Any] | None
    target: dict[str, Any] | None

    @property
    def deletes(self) -> bool:
        """True when the repair deletes the item (it did not exist at the time it goes back to)."""
        return self.target is None

    def canonical(self) -> bytes:
        """The action as canonical JSON (sorted keys): what the plan hash covers, item states included."""
        return msgspec.json.encode({"key": self.key, "expected": self.expected, "target": self.target}, order="sorted")


def decide(live: Item | None, action: RepairAction) -> Outcome:
    """What the live item says about the repair: UNCHANGED, WRITE or CONFLICT."""
    if same_item(live, action.target):
        return Outcome.UNCHANGED
    if same_item(live, action.expected):
        return Outcome.WRITE
    return Outcome.CONFLICT


def actions_digest(actions: Iterable[RepairAction]) -> str:
    """sha256 over every action in order: binds an approval to each item's expected state and what is written."""
    digest = hashlib.sha256()
    for action in actions:
        digest.update(action.canonical())
        digest.update(b"\n")
    return digest.hexdigest()
