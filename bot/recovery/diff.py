"""Two states of one item compared as DynamoDB compares values (bot/loader/compare.py's canonical forms): equal,
or which attributes were changed, added or removed. Only names: the values stay with whoever may see them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.loader.compare import canonical

Item = Mapping[str, Any]


def same_item(first: Item | None, second: Item | None) -> bool:
    """True when both are absent, or both hold exactly the same attributes with equal values."""
    if first is None or second is None:
        return first is None and second is None
    if first.keys() != second.keys():
        return False
    return all(canonical(first[name]) == canonical(second[name]) for name in first)


@dataclass(frozen=True)
class ItemChange:
    """How `after` differs from `before`: attributes whose value changed, that `after` added, that it removed."""

    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    created: bool = False  # `before` was absent
    deleted: bool = False  # `after` is absent

    @property
    def none(self) -> bool:
        """True when the two states are the same."""
        return not (self.changed or self.added or self.removed or self.created or self.deleted)


def change_between(before: Item | None, after: Item | None) -> ItemChange:
    """What differs going from `before` to `after` (attribute names, sorted)."""
    if before is None and after is None:
        return ItemChange()
    if before is None:
        return ItemChange(added=tuple(sorted(after or {})), created=True)
    if after is None:
        return ItemChange(removed=tuple(sorted(before)), deleted=True)
    return ItemChange(
        changed=tuple(sorted(n for n in before if n in after and canonical(before[n]) != canonical(after[n]))),
        added=tuple(sorted(n for n in after if n not in before)),
        removed=tuple(sorted(n for n in before if n not in after)),
    )
