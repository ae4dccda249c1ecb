"""`where="…"` as a person writes it → a DynamoDB FilterExpression with its placeholders.

DynamoDB takes values only as placeholders (`:v` with ExpressionAttributeValues) and refuses its ~570 reserved words
as attribute names, so `where="deploy = 'v2.3.1' AND price > 100"` is rewritten to `#w0 = :w1 AND #w2 > :w3`: every
quoted text becomes a string value, every bare number a number value, every other word an attribute name, except
the expression language's own words (AND, OR, NOT, BETWEEN, IN and the functions). The grammar itself is DynamoDB's
to check: what it refuses comes back from ExportTableToPointInTime as a ValidationException, said to the user.
Kept here (not a library) because no maintained Python library turns such text into placeholders; it is a
tokenizer, not a parser, and never judges what the expression means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.errors import UsageError
from bot.loader.keys import KeyValueRefused, canonical_number

MAX_WHERE = 4 * 1024  # DynamoDB's limit on an expression
KEYWORDS = frozenset({"and", "or", "not", "between", "in"})
FUNCTIONS = frozenset({"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size"})
TOKEN = re.compile(
    r"""(?P<text>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    r"|(?P<number>(?<![\w.\]])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]))"
    r"|(?P<index>\[\d+\])"
    r"|(?P<word>[A-Za-z_][\w-]*)"
    r"|(?P<space>\s+)"
    r"|(?P<other><>|<=|>=|[=<>(),.])"
)


@dataclass(frozen=True)
class FilterExpression:
    """A FilterExpression with its names and values, as FilterSpecification takes it, and the text as written."""

    expression: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    written: str = ""

    def specification(self) -> dict[str, Any]:
        """FilterSpecification's members (empty maps left out: DynamoDB refuses them)."""
        spec: dict[str, Any] = {"FilterExpression": self.expression}
        if self.names:
            spec["ExpressionAttributeNames"] = self.names
        if self.values:
            spec["ExpressionAttributeValues"] = self.values
        return spec


def filter_expression(written: str) -> FilterExpression:
    """Rewrite `written` with placeholders; a UsageError says what cannot be read."""
    if not written.strip():
        raise UsageError("`where=` is empty. Write a filter, e.g. `where=\"deploy = 'v2.3.1'\"`.")
    if len(written.encode()) > MAX_WHERE:
        raise UsageError(f"`where=` is {len(written.encode())} bytes; DynamoDB takes at most 4 KB.")
    parts: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    position = 0
    for match in TOKEN.finditer(written):
        if match.start() != position:
            break
        position = match.end()
        parts.append(_token(match, names, values))
    if position != len(written):
        raise UsageError(
            f"`where=` cannot be read at `{written[position : position + 20]}`: write attribute names, quoted "
            "texts ('v2'), numbers, comparisons (= <> < <= > >=), AND, OR, NOT, BETWEEN, IN and DynamoDB's "
            "functions (attribute_exists, begins_with, contains, size…)."
        )
    return FilterExpression("".join(parts), names, values, written)


def _token(match: re.Match[str], names: dict[str, str], values: dict[str, Any]) -> str:
    kind, text = match.lastgroup, match.group()
    if kind == "text":
        return _value(values, {"S": _unquoted(text)})
    if kind == "number":
        try:
            return _value(values, {"N": canonical_number(text.lstrip("+"))})
        except KeyValueRefused as error:
            raise UsageError(f"`where=`: {error}.") from None
    if kind == "word" and text.lower() not in KEYWORDS and text.lower() not in FUNCTIONS:
        placeholder = next((p for p, name in names.items() if name == text), f"#w{len(names)}")
        names[placeholder] = text
        return placeholder
    return text


def _value(values: dict[str, Any], value: dict[str, str]) -> str:
    placeholder = f":w{len(values)}"
    values[placeholder] = value
    return placeholder


def _unquoted(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])
