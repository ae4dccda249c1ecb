"""Request validation as DynamoDB's front end does it, driven by botocore's service model (the authority on shapes).

botocore checks only some constraints before sending (required members, minimums) and a caller may skip it, so the
stand-ins check every request they answer against the model: required members, enums, patterns, lengths and
ranges, answering AWS's `ValidationException` text ("1 validation error detected: Value '100' at
'maxWriteRequestUnits' failed to satisfy constraint: Member must have value greater than or equal to 1024"), and a
value of the wrong JSON type with `SerializationException`. Written here because botocore's own validator is
client-side (different messages, no patterns or enums) and moto has none for these operations.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from bot.demo.aws.front import AwsError

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "blob": (str,),
    "long": (int,),
    "integer": (int,),
    "boolean": (bool,),
    "timestamp": (int, float),
    "double": (int, float),
    "float": (int, float),
    "list": (list,),
    "map": (dict,),
    "structure": (dict,),
}


@cache
def dynamodb_model() -> ServiceModel:
    """The installed botocore's DynamoDB model (loaded once)."""
    return botocore.session.get_session().get_service_model("dynamodb")


def operation_model(operation: str) -> OperationModel:
    return dynamodb_model().operation_model(operation)


def validate_request(operation: str, body: dict[str, Any]) -> None:
    """Raises AwsError (ValidationException / SerializationException) where `body` breaks the operation's input."""
    errors: list[str] = []
    shape = operation_model(operation).input_shape
    if shape is not None:
        _check_structure(shape, body, "", errors)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise AwsError("ValidationException", f"{len(errors)} validation {noun} detected: " + "; ".join(errors))


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not _has_type(value, shape.type_name):
        raise AwsError("SerializationException", f"The value at '{path}' is not a {shape.type_name}")
    metadata = shape.metadata
    if shape.type_name == "string":
        enum = metadata.get("enum")
        if enum and value not in enum:
            errors.append(_failed(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]"))
        pattern = metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            errors.append(_failed(value, path, f"Member must satisfy regular expression pattern: {pattern}"))
    if shape.type_name in {"string", "list", "map"}:
        _range(len(value), metadata, path, value, "length", errors)
    elif shape.type_name in {"long", "integer", "double", "float"}:
        _range(value, metadata, path, value, "value", errors)
    if isinstance(shape, StructureShape):
        _check_structure(shape, value, path + ".", errors)
    elif isinstance(shape, ListShape):
        for index, member in enumerate(value, start=1):
            _check(shape.member, member, f"{path}.{index}.member", errors)
    elif isinstance(shape, MapShape):
        for key, member in value.items():
            _check(shape.value, member, f"{path}.{key}.member", errors)


def _has_type(value: object, type_name: str) -> bool:
    if type_name in {"long", "integer"} and isinstance(value, bool):
        return False
    return isinstance(value, _JSON_TYPES.get(type_name, (object,)))


def _check_structure(shape: StructureShape, value: dict[str, Any], prefix: str, errors: list[str]) -> None:
    for name in shape.required_members:
        if value.get(name) is None:
            errors.append(
                f"Value null at '{prefix}{_camel(name)}' failed to satisfy constraint: Member must not be null"
            )
    for name, member in value.items():
        if name in shape.members and member is not None:
            _check(shape.members[name], member, prefix + _camel(name), errors)


def _range(measure: float, metadata: dict[str, Any], path: str, value: Any, kind: str, errors: list[str]) -> None:
    low, high = metadata.get("min"), metadata.get("max")
    if low is not None and measure < low:
        errors.append(_failed(value, path, f"Member must have {kind} greater than or equal to {low}"))
    if high is not None and measure > high:
        errors.append(_failed(value, path, f"Member must have {kind} less than or equal to {high}"))


def _failed(value: Any, path: str, constraint: str) -> str:
    shown = value if isinstance(value, str | int | float) else "[…]"
    return f"Value '{shown}' at '{path}' failed to satisfy constraint: {constraint}"


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]
