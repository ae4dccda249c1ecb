"""The dependency rules of ARCHITECTURE.md for scheduling, checked on the source rather than left to review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
USE_CASES = [
    "bot/schedules.py",
    "bot/schedule_runs.py",
    "bot/schedule_store.py",
    "bot/schedule_models.py",
    "bot/schedule_ports.py",
    "bot/digest.py",
    "bot/leases.py",
    "bot/leader.py",
]
SCHEDULER = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scheduler").glob("*.py"))


def imported(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", USE_CASES)
def test_scheduling_use_cases_import_neither_slack_nor_apscheduler_nor_the_surfaces(path: str) -> None:
    assert not imported(path) & {"slack_bolt", "slack_sdk", "apscheduler", "handlers", "scheduler"}


@pytest.mark.parametrize("path", SCHEDULER)
def test_the_scheduler_never_talks_to_slack_directly(path: str) -> None:
    assert not imported(path) & {"slack_bolt", "slack_sdk", "handlers"}
