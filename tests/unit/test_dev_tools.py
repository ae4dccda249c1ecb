"""The dev extra installs everything its tools import: a virtualenv made without setuptools can run the tests."""

from __future__ import annotations

import ast
import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
# The first setuptools without pkg_resources.
SETUPTOOLS_WITHOUT_PKG_RESOURCES = Version("82.0.0")


def imports_at_module_level(distribution: str, module: str, imported: str) -> bool:
    """Whether `module` of the installed `distribution` imports `imported` unconditionally, when it is loaded."""
    (path,) = [f for f in importlib.metadata.distribution(distribution).files or [] if str(f) == module]
    tree = ast.parse(Path(str(path.locate())).read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return imported in names


def test_parliament_gets_a_setuptools_that_still_has_pkg_resources() -> None:
    assert imports_at_module_level("parliament", "parliament/__init__.py", "pkg_resources"), (
        "parliament no longer imports pkg_resources: drop the setuptools bound from the dev extra"
    )
    dev = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["dev"]
    (setuptools,) = [r for r in map(Requirement, dev) if r.name == "setuptools"]
    assert setuptools.specifier.contains("80.9.0")
    assert not setuptools.specifier.contains(SETUPTOOLS_WITHOUT_PKG_RESOURCES)
