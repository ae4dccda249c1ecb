"""The dependency rules of docs/development.md (Architecture rules), checked on every module of the tree.

Each rule walks the source with `ast` (nothing is imported), and a failure names the file, the line and the
import (or assignment) that breaks it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("bot", "handlers", "scheduler")
SLACK = ("slack_bolt", "slack_sdk")
COMPOSITION = ("bot.wiring", "bot.demo", "bot.__main__")  # may know everything
# the kernel (bot/*.py) may use these, no other feature: AWS, and the claimed-work engine its outbox enqueues notes in
KERNEL_PACKAGES = ("bot.aws", "bot.background")
FEATURES = (
    "bot.exports",
    "bot.loader",
    "bot.restores",
    "bot.schedules",
    "bot.background",
    "bot.coverage",
    "bot.home",
    "bot.verification",
    "bot.drills",
    "bot.recovery",
    "bot.catalog",
    "bot.retention",
    "bot.controls",
)
# Which feature may import which (the kernel and bot.aws are open to all).
FEATURE_MAY_IMPORT = {
    "bot.background": (),
    "bot.exports": ("bot.background",),
    "bot.loader": ("bot.exports",),
    "bot.restores": ("bot.exports", "bot.loader", "bot.background"),
    "bot.schedules": ("bot.exports", "bot.drills", "bot.background"),
    "bot.coverage": ("bot.drills", "bot.loader"),
    "bot.home": ("bot.coverage", "bot.restores", "bot.schedules", "bot.controls"),
    "bot.verification": ("bot.exports", "bot.loader", "bot.restores", "bot.background"),
    "bot.drills": ("bot.exports", "bot.loader", "bot.restores", "bot.background", "bot.verification"),
    "bot.recovery": ("bot.exports", "bot.loader", "bot.restores", "bot.background"),
    "bot.catalog": ("bot.exports", "bot.verification", "bot.drills", "bot.restores"),
    "bot.retention": ("bot.catalog", "bot.exports", "bot.restores", "bot.background"),
    "bot.controls": ("bot.catalog", "bot.coverage", "bot.drills"),
}


@dataclass(frozen=True)
class Import:
    """One import statement's target as a module name, where it is, and how it runs."""

    source: str
    target: str
    path: str
    line: int
    local: bool  # inside a function
    typing_only: bool  # under `if TYPE_CHECKING:`

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def project_modules() -> dict[str, Path]:
    return {module_name(p): p for top in PROJECT for p in sorted((ROOT / top).rglob("*.py"))}


@cache
def imports_of(module: str) -> tuple[Import, ...]:
    path = project_modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[Import] = []
    relative = str(path.relative_to(ROOT))

    def visit(node: ast.AST, *, local: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for item in child.body:
                    visit_statement(item, local=local, typing_only=True)
                for item in child.orelse:
                    visit_statement(item, local=local, typing_only=typing_only)
                continue
            visit_statement(child, local=local, typing_only=typing_only)

    def visit_statement(node: ast.AST, *, local: bool, typing_only: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, relative, node.lineno, local, typing_only))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                target = candidate if candidate in project_modules() else node.module
                found.append(Import(module, target, relative, node.lineno, local, typing_only))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            visit(node, local=True, typing_only=typing_only)
        else:
            visit(node, local=local, typing_only=typing_only)

    visit(tree, local=False, typing_only=False)
    return tuple(found)


def all_imports() -> Iterator[Import]:
    for module in project_modules():
        yield from imports_of(module)


def within(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def is_kernel(module: str) -> bool:
    return module.count(".") == 1 and module.startswith("bot.") and module not in project_packages()


@cache
def project_packages() -> frozenset[str]:
    return frozenset(m for m, p in project_modules().items() if p.name == "__init__.py")


def is_use_case(module: str) -> bool:
    return module.startswith("bot") and not within(module, *COMPOSITION)


def offending(rule: str, imports: list[Import]) -> str:
    return f"{rule}:\n" + "\n".join(f"  {i}" for i in imports)


def test_there_are_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in project_modules()}
    for imp in all_imports():
        if not imp.typing_only and imp.target in graph and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    cycles = [sorted(c) for c in strongly_connected(graph) if len(c) > 1]
    assert not cycles, "import cycles:\n" + "\n".join("  " + " ↔ ".join(c) for c in cycles)


def test_no_function_imports_a_project_module() -> None:
    local = [i for i in all_imports() if i.local and within(i.target, *PROJECT)]
    assert not local, offending("function-local imports of project modules (they hide cycles)", local)


def test_use_cases_import_neither_slack_nor_apscheduler_nor_the_surfaces() -> None:
    bad = [
        i
        for i in all_imports()
        if is_use_case(i.source) and within(i.target, *SLACK, "apscheduler", "handlers", "scheduler")
    ]
    assert not bad, offending("bot/ outside wiring/ and demo/ must not import Slack, APScheduler or the surfaces", bad)


def test_only_the_wiring_imports_the_wiring() -> None:
    bad = [i for i in all_imports() if within(i.target, "bot.wiring") and not within(i.source, *COMPOSITION)]
    assert not bad, offending("only bot/wiring, bot/demo and bot/__main__ import bot.wiring", bad)


def test_handlers_touch_neither_aws_clients_nor_sql_nor_the_scheduler() -> None:
    forbidden = ("boto3", "botocore", "sqlalchemy", "scheduler", "apscheduler", "bot.db", "bot.wiring")
    bad = [
        i
        for i in all_imports()
        if within(i.source, "handlers")
        and (within(i.target, *forbidden) or i.target.endswith(".store") or i.target == "bot.store")
    ]
    assert not bad, offending("handlers/ must not import boto3, SQLAlchemy, stores or scheduler/", bad)


def test_the_scheduler_never_talks_to_slack() -> None:
    bad = [i for i in all_imports() if within(i.source, "scheduler") and within(i.target, *SLACK, "handlers")]
    assert not bad, offending("scheduler/ reports through the notifier port, never to Slack", bad)


def test_the_kernel_imports_no_feature() -> None:
    bad = [
        i
        for i in all_imports()
        if is_kernel(i.source) and within(i.target, *FEATURES) and not within(i.target, *KERNEL_PACKAGES)
    ]
    assert not bad, offending(f"bot/*.py may use {KERNEL_PACKAGES} but no feature package", bad)


def test_features_import_only_the_features_they_build_on() -> None:
    bad = []
    for imp in all_imports():
        source = next((f for f in FEATURE_MAY_IMPORT if within(imp.source, f)), None)
        target = next((f for f in FEATURES if within(imp.target, f)), None)
        if source and target and target != source and target not in FEATURE_MAY_IMPORT[source]:
            bad.append(imp)
    assert not bad, offending(f"features may import only {FEATURE_MAY_IMPORT}", bad)


def is_builder(module: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    return within(module, "handlers") and (name == "blocks" or name.endswith("_blocks"))


def test_block_builders_only_render() -> None:
    bad = [i for i in all_imports() if is_builder(i.source) and within(i.target, "bot.costs", "bot.aws.pricing")]
    assert not bad, offending(
        "Block Kit builders render figures the use cases computed (bot.money): no cost computations, no price book",
        bad,
    )


def test_no_module_keeps_state_in_a_global_outside_the_composition_root() -> None:
    found = []
    for module, path in project_modules().items():
        if within(module, *COMPOSITION):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Global):
                found.append(f"  {path.relative_to(ROOT)}:{node.lineno} global {', '.join(node.names)}")
    assert not found, "module-level state (build it in bot/wiring and pass it in):\n" + "\n".join(found)


def test_the_wiring_passes_dependencies_in_and_never_patches_a_built_object() -> None:
    patched = []
    for module, path in project_modules().items():
        if not within(module, "bot.wiring", "handlers"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and not (isinstance(target.value, ast.Name) and target.value.id in {"self", "cls"})
                    and target.attr != "__name__"
                ):
                    patched.append(f"  {path.relative_to(ROOT)}:{node.lineno} assigns {ast.unparse(target)}")
    assert not patched, "attributes assigned on built objects (pass them to the constructor):\n" + "\n".join(patched)


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [sorted(c) for c in strongly_connected(graph) if len(c) > 1] == [["a", "b", "c"]]
