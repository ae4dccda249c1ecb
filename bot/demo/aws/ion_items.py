"""DynamoDB items as Amazon Ion, both ways, for the stand-ins: bulk put's ION input and ION exports.

The mapping is the one AWS documents for exports in Ion (S3DataExport.Output, "Amazon Ion"): S → string, N → decimal,
B → blob, BOOL → bool, NULL → null, L → list, M → struct, and the sets as lists annotated `$dynamodb_SS`,
`$dynamodb_NS`, `$dynamodb_BS`. A data file holds one top-level struct per line, `{Item:{…}}` for a full export
(`{Keys:{…},NewImage:{…},OldImage:{…},Metadata:{…}}` for an incremental one); the layout of bulk put's Ion input
is NOT CONFIRMED (the Format page could not be read) and is taken to be the same, with a conditional put's
`ConditionExpression` (a string), `ExpressionAttributeNames` (a struct of strings) and `ExpressionAttributeValues`
(a struct of values, mapped as item attributes) beside `Item`. Uses the amazon-ion package (a demo/dev extra).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from amazon.ion import simpleion
from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPyList

SETS = {"SS": "$dynamodb_SS", "NS": "$dynamodb_NS", "BS": "$dynamodb_BS"}
ITEM_MEMBERS = frozenset({"Item", "Keys", "NewImage", "OldImage", "ExpressionAttributeValues"})


def ion_line(record: dict[str, Any]) -> bytes:
    """One data line: the record (DynamoDB JSON members) as an Ion text struct, newline-terminated."""
    value = {name: _to_ion_map(member) if name in ITEM_MEMBERS else member for name, member in record.items()}
    text: str = simpleion.dumps(value, binary=False, omit_version_marker=True)
    return text.encode() + b"\n"


def ion_records(text: bytes) -> list[dict[str, Any]]:
    """Every top-level struct of Ion text as a DynamoDB JSON record; raises ValueError when the text is not Ion or
    a value is not a struct."""
    try:
        values = simpleion.loads(text.decode("utf-8"), single_value=False)
    except Exception as error:  # amazon.ion raises its own and plain errors alike
        raise ValueError(f"The object is not Ion text: {error}") from None
    records = []
    for value in values:
        if not isinstance(value, Mapping):
            raise ValueError("A top-level Ion value is not a struct")
        records.append({str(k): _from_ion_map(v) if str(k) in ITEM_MEMBERS else _plain(v) for k, v in value.items()})
    return records


def _to_ion_map(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _to_ion(value) for name, value in item.items()}


def _to_ion(value: dict[str, Any]) -> Any:
    ((kind, inner),) = value.items()
    if kind == "S":
        return inner
    if kind == "N":
        return Decimal(inner)
    if kind == "B":
        return base64.b64decode(inner)
    if kind == "BOOL":
        return bool(inner)
    if kind == "NULL":
        return None
    if kind == "L":
        return [_to_ion(v) for v in inner]
    if kind == "M":
        return _to_ion_map(inner)
    if kind in SETS:
        members = [Decimal(v) if kind == "NS" else base64.b64decode(v) if kind == "BS" else v for v in inner]
        return IonPyList.from_value(IonType.LIST, members, annotations=(SETS[kind],))
    raise ValueError(f"Unknown DynamoDB type {kind}")


def _from_ion_map(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError("An item is not an Ion struct")
    return {str(name): _from_ion(member) for name, member in value.items()}


def _from_ion(value: Any) -> dict[str, Any]:
    ion_type = getattr(value, "ion_type", None)
    annotations = [getattr(a, "text", a) for a in getattr(value, "ion_annotations", ())]
    kind = next((k for k, annotation in SETS.items() if annotation in annotations), None)
    if kind is not None:
        return {kind: [_set_member(kind, v) for v in value]}
    if value is None or ion_type == IonType.NULL or getattr(value, "is_null", False):
        return {"NULL": True}
    if isinstance(value, bool) or ion_type == IonType.BOOL:
        return {"BOOL": bool(value)}
    if isinstance(value, str):
        return {"S": str(value)}
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return {"N": str(value)}
    if isinstance(value, bytes):
        return {"B": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Mapping):
        return {"M": _from_ion_map(value)}
    if isinstance(value, list | tuple) or ion_type in {IonType.LIST, IonType.SEXP}:
        return {"L": [_from_ion(v) for v in value]}
    raise ValueError(f"An Ion {ion_type} value has no DynamoDB type")


def _set_member(kind: str, value: Any) -> str:
    if kind == "BS":
        return base64.b64encode(bytes(value)).decode()
    return str(value)


def _plain(value: Any) -> Any:
    """A non-item member (a condition's text, attribute names) as plain Python."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str):
        return str(value)
    return value
