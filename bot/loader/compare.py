"""Items compared the way DynamoDB compares values: numbers by value at 38 digits (`1E+2` is `100`), binary as bytes,
sets without order, maps without key order, every type apart (an S "1" is not an N 1).

An item from an export is DynamoDB JSON (binary as base64 text); one read back with the low-level boto3 client has
binary as bytes: both become the same canonical form here, so only a real difference shows.

It lives in bot/loader beside the canonical key forms it builds on (keys.py), so drills and an item-level recovery
can both use it without depending on each other.
"""

from __future__ import annotations

import base64
from collections.abc import Hashable, Mapping
from typing import Any

from bot.loader.keys import KeyValueRefused, canonical_binary, canonical_number

Item = Mapping[str, Any]


def canonical(value: Mapping[str, Any]) -> Hashable:
    """One attribute value (`{"S": "x"}`, `{"NS": [...]}`...) in a form equal exactly when DynamoDB's values are."""
    if len(value) != 1:
        return ("invalid", repr(sorted(value)))
    ((kind, inner),) = value.items()
    try:
        return _canonical(kind, inner)
    except (KeyValueRefused, TypeError, ValueError, AttributeError):
        return ("invalid", kind, repr(inner)[:200])


def _canonical(kind: str, inner: Any) -> Hashable:
    if kind == "S":
        return ("S", _text(inner))
    if kind == "N":
        return ("N", _number(inner))
    if kind == "B":
        return ("B", _binary(inner))
    if kind in {"BOOL", "NULL"}:
        if not isinstance(inner, bool):
            raise TypeError
        return (kind, inner)
    if kind in {"SS", "NS", "BS"}:
        element = {"SS": _text, "NS": _number, "BS": _binary}[kind]
        return (kind, frozenset(element(v) for v in inner))
    if kind == "L":
        return ("L", tuple(canonical(v) for v in inner))
    if kind == "M":
        return ("M", frozenset((name, canonical(v)) for name, v in inner.items()))
    raise ValueError(kind)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _number(value: Any) -> str:
    return canonical_number(str(value))


def _binary(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return canonical_binary(str(value))


def item_differences(expected: Item, actual: Item | None) -> list[str]:
    """The attributes that differ between the export's item and the table's (sorted); ["(missing)"] when the table
    has no such item."""
    if actual is None:
        return ["(missing)"]
    names = sorted(set(expected) | set(actual))
    return [
        name
        for name in names
        if name not in expected or name not in actual or canonical(expected[name]) != canonical(actual[name])
    ]


def key_text(item: Item, key_names: tuple[str, ...]) -> str:
    """The item's key as a person reads it: `pk=order#1, sk=3` (binary shown as base64)."""
    parts = []
    for name in key_names:
        value = item.get(name) or {}
        inner = next(iter(value.values())) if len(value) == 1 else "?"
        shown = base64.b64encode(bytes(inner)).decode() if isinstance(inner, bytes | bytearray) else str(inner)
        parts.append(f"{name}={shown}")
    return ", ".join(parts)
