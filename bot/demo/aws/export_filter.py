"""An export's FilterSpecification, evaluated by moto itself on scratch tables (no expression evaluator of our own).

DynamoDB's expression language is large and its edge cases matter, so the stand-in never evaluates one: the items
to judge are written into a private scratch table in moto with the exported table's key schema, and moto's own
Query (with a KeyConditionExpression) or Scan (without one) runs the key condition and the FilterExpression with the
request's ExpressionAttributeNames/Values; the keys it returns are the items that match. ProjectionExpression runs
the same way: the images are written to a second scratch table keyed by a private slot attribute, and a Scan with
the request's projection plus that slot returns each projected image. Syntax and type errors are therefore moto's
ValidationExceptions, as a Query would give them. moto's expression parser is used only to list the attributes a
FilterExpression names, for AWS's rule that with a KeyConditionExpression the filter may name non-key attributes
only. Scratch tables live for one export request and are hidden from ListTables.

Rules from the API model and the guide: KeyConditionExpression has Query's rules (one partition key value, an
optional sort key condition); each expression is at most 4 KB; every name and value given must be used. NOT
CONFIRMED, chosen here: key attributes are NOT added to the projection automatically (an export that must be
restorable lists them); an incremental record's `Keys` are never projected (they identify the record).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.dynamodb.comparisons import AttributePath, Func, Op, get_filter_expression

from bot.demo.aws.front import Answer, AwsError, Caller, DynamoDbCall, DynamoDbFront
from bot.demo.aws.tables import Item, KeyIdentity, TableInfo

MAX_EXPRESSION_BYTES = 4096
SCRATCH_PREFIX = "ddbstandin-scratch-"
_SLOT = "__ddbstandin_slot__"
_SLOT_NAME = "#ddbstandinslot"
_NAME = re.compile(r"#[A-Za-z0-9_]+")
_VALUE = re.compile(r":[A-Za-z0-9_]+")


@dataclass(frozen=True)
class ExportFilter:
    """A request's FilterSpecification."""

    key_condition: str | None = None
    expression: str | None = None
    projection: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: dict[str, Any] | None) -> ExportFilter | None:
        if not spec:
            return None
        return cls(
            spec.get("KeyConditionExpression"),
            spec.get("FilterExpression"),
            spec.get("ProjectionExpression"),
            dict(spec.get("ExpressionAttributeNames") or {}),
            dict(spec.get("ExpressionAttributeValues") or {}),
        )

    @property
    def selects(self) -> bool:
        return bool(self.key_condition or self.expression)

    def check(self, table: TableInfo) -> None:
        """AWS's rules that moto's Query would not apply; raises ValidationException."""
        expressions = {
            "KeyConditionExpression": self.key_condition,
            "FilterExpression": self.expression,
            "ProjectionExpression": self.projection,
        }
        for member, text in expressions.items():
            if text is not None and len(text.encode()) > MAX_EXPRESSION_BYTES:
                raise AwsError("ValidationException", f"Invalid FilterSpecification: {member} is longer than 4 KB")
            if text is not None and not text.strip():
                raise AwsError("ValidationException", f"Invalid FilterSpecification: {member} can not be empty")
        text = " ".join(t for t in expressions.values() if t)
        for kind, given, used in (
            ("Names", self.names, set(_NAME.findall(text))),
            ("Values", self.values, set(_VALUE.findall(text))),
        ):
            unused = sorted(set(given) - used)
            if unused:
                raise AwsError(
                    "ValidationException",
                    f"Value provided in ExpressionAttribute{kind} unused in expressions: keys: {{{', '.join(unused)}}}",
                )
        if self.key_condition and self.expression:
            named = set(_top_level_attributes(self.expression, self.names, self.values))
            keys = sorted(named & set(table.key_names))
            if keys:
                raise AwsError(
                    "ValidationException",
                    f"Filter Expression can only contain non-primary key attributes: Primary key attribute: {keys[0]}",
                )

    def names_in(self, *texts: str | None) -> dict[str, str]:
        used = {name for text in texts if text for name in _NAME.findall(text)}
        return {k: v for k, v in self.names.items() if k in used}


class ScratchEvaluator:
    """Runs an ExportFilter's expressions through moto, on private tables in the caller's account."""

    def __init__(self, front: DynamoDbFront, caller: Caller) -> None:
        self.front = front
        self.caller = caller

    def matching(self, table: TableInfo, spec: ExportFilter, items: list[Item]) -> set[KeyIdentity]:
        """The keys of `items` (each holding the table's key attributes) that the key condition and filter select."""
        request: dict[str, Any] = {}
        if spec.key_condition:
            request["KeyConditionExpression"] = spec.key_condition
        if spec.expression:
            request["FilterExpression"] = spec.expression
        names = spec.names_in(spec.key_condition, spec.expression)
        if names:
            request["ExpressionAttributeNames"] = names
        if spec.values:
            request["ExpressionAttributeValues"] = spec.values
        operation = "Query" if spec.key_condition else "Scan"
        with self._scratch(table.scratch_definition(self._name()), items) as name:
            return {table.identity(table.keys_of(found)) for found in self._pages(operation, name, request)}

    def project(self, spec: ExportFilter, images: list[Item]) -> list[Item]:
        """Each image with only the attributes the ProjectionExpression names (keys only if it names them)."""
        if not spec.projection:
            return images
        definition = {
            "TableName": self._name(),
            "KeySchema": [{"AttributeName": _SLOT, "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": _SLOT, "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        slotted = [{**image, _SLOT: {"S": f"{n:09d}"}} for n, image in enumerate(images)]
        request = {
            "ProjectionExpression": f"{spec.projection}, {_SLOT_NAME}",
            "ExpressionAttributeNames": {**spec.names_in(spec.projection), _SLOT_NAME: _SLOT},
        }
        projected: list[Item] = [{} for _ in images]
        with self._scratch(definition, slotted) as name:
            for found in self._pages("Scan", name, request):
                slot = int(found.pop(_SLOT)["S"])
                projected[slot] = found
        return projected

    def _name(self) -> str:
        return SCRATCH_PREFIX + uuid.uuid4().hex

    def _pages(self, operation: str, table: str, request: dict[str, Any]) -> Iterator[Item]:
        body = {**request, "TableName": table, "ConsistentRead": True}
        while True:
            try:
                page = self.front.call_moto(self.caller, operation, body)
            except AwsError as error:
                if error.status < 500:
                    raise
                # moto's parser crashes on some invalid expressions (e.g. OR in a key condition): AWS refuses them
                raise AwsError(
                    "ValidationException", "Invalid FilterSpecification: the expressions are not valid"
                ) from None
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            body["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _scratch(self, definition: dict[str, Any], items: list[Item]) -> _ScratchTable:
        return _ScratchTable(self, definition, items)


class _ScratchTable:
    """A private moto table holding `items` for the duration of a `with` block."""

    def __init__(self, evaluator: ScratchEvaluator, definition: dict[str, Any], items: list[Item]) -> None:
        self.evaluator, self.definition, self.items = evaluator, definition, items

    def __enter__(self) -> str:
        front, caller, name = self.evaluator.front, self.evaluator.caller, self.definition["TableName"]
        front.call_moto(caller, "CreateTable", self.definition)
        try:
            for start in range(0, len(self.items), 25):
                requests = [{"PutRequest": {"Item": item}} for item in self.items[start : start + 25]]
                front.call_moto(caller, "BatchWriteItem", {"RequestItems": {name: requests}})
        except AwsError:
            self.__exit__()
            raise
        return str(name)

    def __exit__(self, *exc: object) -> None:
        self.evaluator.front.call_moto(
            self.evaluator.caller, "DeleteTable", {"TableName": self.definition["TableName"]}
        )


def hide_scratch_tables(front: DynamoDbFront) -> None:
    """ListTables never shows the scratch tables an export is using at that moment."""

    def list_tables(call: DynamoDbCall) -> Answer | dict[str, Any]:
        answer = front.forward(call.request)
        if answer.status != 200:
            return answer
        listed = answer.json()
        listed["TableNames"] = [n for n in listed.get("TableNames", []) if not n.startswith(SCRATCH_PREFIX)]
        return listed

    front.handle("ListTables", list_tables)


def _top_level_attributes(expression: str, names: dict[str, str], values: dict[str, Any]) -> Iterator[str]:
    """The top-level attribute names a condition expression reads (moto's parser; nothing on a syntax error)."""
    try:
        tree = get_filter_expression(expression, names, values)
    except Exception:  # moto's parser raises several types; the Query that follows reports the error itself
        return
    yield from _walk(tree)


def _walk(node: Any) -> Iterator[str]:
    if isinstance(node, AttributePath):
        yield str(node.path[0])
    elif isinstance(node, Op):
        yield from _walk(node.lhs)
        yield from _walk(node.rhs)
    elif isinstance(node, Func):
        for argument in node.arguments:
            yield from _walk(argument)
