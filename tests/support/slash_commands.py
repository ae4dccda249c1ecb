"""Reads the slash commands the code registers (handlers/, by AST) and those the Slack app manifests declare, for
every test that checks commands against something (manifests, help, docs, messages).

Commands are read from handlers/ by AST: `app.command(X)` where X is a literal, a constant (`COMMAND = "/ddb-…"`,
imported or not), or the key of a dict literal the registration loop walks.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXCLUDED = (ROOT / "bot" / "demo",)
MANIFESTS = [ROOT / "deploy" / "slack-app-manifest.yaml", ROOT / "deploy" / "slack-app-manifest.socket-mode.yaml"]


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def python_files(folders: tuple[str, ...]) -> list[Path]:
    files = []
    for folder in folders:
        files += [p for p in sorted((ROOT / folder).rglob("*.py")) if not any(p.is_relative_to(e) for e in EXCLUDED)]
    return files


@cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def manifest(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def own_constants(path: Path) -> dict[str, str]:
    """Module-level `NAME = "..."` string constants of one module."""
    constants: dict[str, str] = {}
    for node in parsed(path).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            constants |= {t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)}
    return constants


def constant(path: Path, name: str) -> str | None:
    """The string a name stands for in a module: its own constant, or one it imports (`from x.y import NAME`)."""
    if name in own_constants(path):
        return own_constants(path)[name]
    for node in parsed(path).body:
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
            (alias,) = (a for a in node.names if (a.asname or a.name) == name)
            base = path.parents[node.level - 1] if node.level else ROOT
            module = base.joinpath(*(node.module or "").split("."))
            source = module.with_suffix(".py") if module.with_suffix(".py").exists() else module / "__init__.py"
            return constant(source, alias.name) if source.exists() else None
    return None


def dict_keys_iterated_as(name: str, function: ast.AST) -> list[str] | None:
    """Keys of the dict literal a `for name[, …] in d.items()/d.keys()/d` loop inside `function` walks."""
    literals: dict[str, ast.Dict] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            literals |= {t.id: node.value for t in targets if isinstance(t, ast.Name)}
    for node in ast.walk(function):
        if not isinstance(node, ast.For):
            continue
        first = node.target.elts[0] if isinstance(node.target, ast.Tuple) else node.target
        if not (isinstance(first, ast.Name) and first.id == name):
            continue
        source = (
            node.iter.func.value
            if isinstance(node.iter, ast.Call) and isinstance(node.iter.func, ast.Attribute)
            else node.iter
        )
        if isinstance(source, ast.Name) and source.id in literals:
            keys = literals[source.id].keys
            return [k.value for k in keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    return None


def registered_commands(files: list[Path]) -> dict[str, str]:
    """Slash command → where `app.command(...)` registers it; fails on a registration it cannot read."""
    commands: dict[str, str] = {}
    for path in files:
        tree = parsed(path)
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "command"
            ):
                continue
            if not node.args:
                continue
            where = f"{shown(path)}:{node.lineno}"
            argument = node.args[0]
            names: list[str] | None = None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                names = [argument.value]
            elif isinstance(argument, ast.Name) and constant(path, argument.id):
                names = [str(constant(path, argument.id))]
            elif isinstance(argument, ast.Name):
                enclosing = [f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)]
                names = dict_keys_iterated_as(argument.id, enclosing[-1]) if enclosing else None
            assert names, f"{where}: cannot tell which command this registers; use a literal or a constant"
            commands |= dict.fromkeys(names, where)
    return commands


def declared_help(files: list[Path]) -> set[str]:
    """Commands that have help text: names given to CommandHelp(...) anywhere under handlers/."""
    names = set()
    for path in files:
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "CommandHelp" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    names.add(str(first.value))
                elif isinstance(first, ast.Name):
                    names.add(str(constant(path, first.id)))
    return names


def manifest_commands(path: Path) -> set[str]:
    """The slash commands a Slack app manifest declares."""
    return {c["command"] for c in manifest(path)["features"]["slash_commands"]}
