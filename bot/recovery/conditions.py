"""The condition under which a repair may write: DynamoDB checks at write time that the live item is still exactly
what the approver saw (or what the window left), so a later change is never overwritten.

What DynamoDB's condition expressions can and cannot say (developer guide, "Condition and filter expressions" and
"Constraints › Expression parameters"; ScyllaDB's Alternator tests, run against DynamoDB, confirm the semantics):

- `a = :v` compares values of every type, lists and maps included: numbers by value (`1E+2` = `100`), sets as sets
  (any order), binary by bytes, lists in order, maps by content; values of different types are never equal, and a
  missing attribute equals nothing. So one `=` per attribute states that attribute exactly.
- Limits: an expression is at most 4 KB; at most 300 operators and functions in one expression (each `=`, each
  `AND`, each function counts); a placeholder (`#a7`, `:a7`) at most 255 bytes; all ExpressionAttributeNames and
  ExpressionAttributeValues together at most 2 MB. An item with n non-key attributes needs 2n - 1 operators, so an
  item of more than 150 non-key attributes cannot be stated exactly: it is reported, never written unconditionally.
- There is no condition for "the item has no attributes other than these" (no item-level size or attribute count).
  The residual risk, and how the writer narrows it: see bot/recovery/writer.py and the README's Recovery section.
- The key attributes need no comparison: the request's Key (or Item) names them, so only that item is judged, and
  `attribute_not_exists(<partition key>)` states "no such item" exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from bot.recovery.keys import KeySchema

MAX_EXPRESSION_BYTES = 4 * 1024
MAX_OPERATORS = 300
MAX_SUBSTITUTION_BYTES = 2 * 1024 * 1024
Item = Mapping[str, Any]


class NoExactCondition(Exception):
    """DynamoDB's expression limits make an exact condition impossible for this item; the reason says which."""


@dataclass(frozen=True)
class Condition:
    """A ConditionExpression with its placeholders, as PutItem and DeleteItem take them."""

    expression: str
    names: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)

    def members(self) -> dict[str, Any]:
        """The request members (ExpressionAttributeValues only when there are values: DynamoDB refuses an empty one)."""
        members: dict[str, Any] = {"ConditionExpression": self.expression, "ExpressionAttributeNames": self.names}
        if self.values:
            members["ExpressionAttributeValues"] = self.values
        return members


def expect(item: Item | None, schema: KeySchema) -> Condition:
    """The condition "the live item is `item`" (None: "there is no such item"); raises NoExactCondition when
    DynamoDB's limits cannot hold it."""
    if item is None:
        return Condition("attribute_not_exists(#k)", {"#k": schema.partition.name})
    attributes = sorted(name for name in item if name not in schema.names)
    if not attributes:
        return Condition("attribute_exists(#k)", {"#k": schema.partition.name})
    operators = 2 * len(attributes) - 1
    if operators > MAX_OPERATORS:
        raise NoExactCondition(
            f"it has {len(attributes)} attributes besides its key: stating each one takes {operators} operators, "
            f"more than the {MAX_OPERATORS} DynamoDB allows in one condition"
        )
    names = {f"#a{n}": name for n, name in enumerate(attributes)}
    values = {f":a{n}": item[name] for n, name in enumerate(attributes)}
    expression = " AND ".join(f"#a{n} = :a{n}" for n in range(len(attributes)))
    if len(expression.encode()) > MAX_EXPRESSION_BYTES:
        raise NoExactCondition(f"its condition would be {len(expression)} bytes, over DynamoDB's 4 KB")
    substitutions = sum(len(name.encode()) for name in names.values()) + len(msgspec.json.encode(values))
    if substitutions > MAX_SUBSTITUTION_BYTES:
        raise NoExactCondition("its attribute names and values take more than the 2 MB a condition may carry")
    return Condition(expression, names, values)
