"""The loader reads boto3 and botocore only through public names: private attributes change without notice."""

from __future__ import annotations

import ast
from pathlib import Path

LOADER = Path(__file__).resolve().parents[3] / "bot" / "loader"


def test_the_loader_reads_no_private_attribute_of_another_object() -> None:
    private = []
    for path in sorted(LOADER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                private.append(f"{path.name}:{node.lineno} .{node.attr}")
            if (  # getattr(client, "_endpoint", None) is the same reach, spelled as a string
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and str(node.args[1].value).startswith("_")
            ):
                private.append(f"{path.name}:{node.lineno} getattr {node.args[1].value}")
    assert private == []
