"""Both Slack app manifests declare what the code uses: every slash command it registers, exactly the bot scopes
its Web API calls need, and the Messages tab for the DMs it sends.

Commands are read from handlers/ by AST: `app.command(X)` where X is a literal, a constant (`COMMAND = "/ddb-…"`,
imported or not), or the key of a dict literal the registration loop walks. Web API calls are `.<method>(…)` on
any receiver whose name is a `slack_sdk.WebClient` method, mapped to Slack's method name by reading the SDK
itself (each WebClient method calls `self.api_call("<method>")`).
"""

from __future__ import annotations

import ast
import inspect
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import slack_sdk.web.client
import yaml

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "handlers"
CODE_DIRS = ("bot", "handlers", "scheduler")
EXCLUDED = (ROOT / "bot" / "demo",)
MANIFESTS = [ROOT / "deploy" / "slack-app-manifest.yaml", ROOT / "deploy" / "slack-app-manifest.socket-mode.yaml"]

# Bot scopes each Web API method needs (docs.slack.dev/reference/methods/<method>, "Scopes"). Methods that take a
# trigger_id or publish the app's own views need none. A method missing here fails the test: look it up.
SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "views.open": set(),
    "views.push": set(),
    "views.update": set(),
    "views.publish": set(),
    "usergroups.users.list": {"usergroups:read"},
    "usergroups.list": {"usergroups:read"},
    # a note in doubt is looked for by its metadata in public (channels:) and private (groups:) channels
    "conversations.history": {"channels:history", "groups:history"},
    # /ddb-report shares its evidence files (files_upload_v2)
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
}
# WebClient methods that make several Web API calls through other WebClient methods (not api_call directly)
COMPOSITE: dict[str, tuple[str, ...]] = {
    "files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal"),
}
SLASH_COMMANDS_SCOPE = "commands"


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


# --- slash commands ---------------------------------------------------------------------------------------


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


def test_the_handlers_register_the_sixteen_commands() -> None:
    commands = registered_commands(python_files(("handlers",)))
    assert set(commands) == {
        "/ddb-pitr",
        "/ddb-export",
        "/ddb-status",
        "/ddb-cost",
        "/ddb-restore",
        "/ddb-schedule",
        "/ddb-coverage",
        "/ddb-verify",
        "/ddb-drill",
        "/ddb-help",
        "/ddb-item",
        "/ddb-recover",
        "/ddb-revert",
        "/ddb-catalog",
        "/ddb-report",
        "/ddb-retention",
    }
    assert set(commands) == declared_help(python_files(("handlers",)))


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_the_manifest_declares_every_registered_command_and_no_other(path: Path) -> None:
    registered = registered_commands(python_files(("handlers",)))
    declared = {c["command"] for c in manifest(path)["features"]["slash_commands"]}
    missing = sorted(f"{c} ({where})" for c, where in registered.items() if c not in declared)
    assert not missing, f"{path.name} lacks the commands the code registers: {missing}"
    assert declared <= registered.keys(), (
        f"{path.name} declares commands nobody handles: {declared - registered.keys()}"
    )


# --- Web API methods and scopes ---------------------------------------------------------------------------


@cache
def web_client_methods() -> dict[str, str]:
    """WebClient method name → Slack API method, read from slack_sdk's source."""
    methods: dict[str, str] = {}
    tree = ast.parse(inspect.getsource(slack_sdk.web.client))
    (client,) = (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "WebClient")
    for function in client.body:
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "api_call"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                methods[function.name] = str(node.args[0].value)
                break
    return methods


def web_api_calls(files: list[Path]) -> dict[str, str]:
    """Slack API method → where the code calls it."""
    calls: dict[str, str] = {}
    for path in files:
        for node in ast.walk(parsed(path)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name == "api_call" and node.args and isinstance(node.args[0], ast.Constant):
                calls.setdefault(str(node.args[0].value), f"{shown(path)}:{node.lineno}")
            elif name in web_client_methods():
                calls.setdefault(web_client_methods()[name], f"{shown(path)}:{node.lineno}")
            for method in COMPOSITE.get(name, ()):
                calls.setdefault(method, f"{shown(path)}:{node.lineno}")
    return calls


def needed_scopes(calls: dict[str, str]) -> set[str]:
    unknown = sorted(f"{method} ({where})" for method, where in calls.items() if method not in SCOPES)
    assert not unknown, f"add the bot scopes these Web API methods need to SCOPES: {unknown}"
    return {scope for method in calls for scope in SCOPES[method]} | {SLASH_COMMANDS_SCOPE}


def test_the_scan_finds_the_web_api_calls_the_bot_is_known_to_make() -> None:
    calls = web_api_calls(python_files(CODE_DIRS))
    assert {"chat.postMessage", "chat.update", "views.open", "usergroups.users.list"} <= calls.keys()


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_the_manifest_declares_exactly_the_bot_scopes_the_calls_need(path: Path) -> None:
    needed = needed_scopes(web_api_calls(python_files(CODE_DIRS)))
    declared = set(manifest(path)["oauth_config"]["scopes"]["bot"])
    assert needed - declared == set(), f"{path.name} lacks bot scopes"
    assert declared - needed == set(), f"{path.name} declares bot scopes no call needs"


def test_a_new_web_api_call_fails_until_its_scope_is_known(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f(client):\n    client.reactions_add(channel='C1', timestamp='1', name='x')\n")
    calls = web_api_calls([*python_files(CODE_DIRS), probe])
    assert calls["reactions.add"].endswith("probe.py:2")
    with pytest.raises(AssertionError, match=r"reactions\.add \(.*probe\.py:2\)"):
        needed_scopes(calls)


def test_a_command_registered_anywhere_is_found(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        'NEW = "/ddb-new"\n'
        "def register(app):\n"
        "    app.command(NEW)(print)\n"
        '    table = {"/ddb-a": 1, "/ddb-b": 2}\n'
        "    for name, _ in table.items():\n"
        "        app.command(name)(print)\n"
    )
    found = registered_commands([*python_files(("handlers",)), probe])
    assert found.keys() - registered_commands(python_files(("handlers",))).keys() == {"/ddb-new", "/ddb-a", "/ddb-b"}
    unreadable = tmp_path / "unreadable.py"
    unreadable.write_text("def register(app, names):\n    app.command(names[0])(print)\n")
    with pytest.raises(AssertionError, match="cannot tell which command"):
        registered_commands([unreadable])


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_the_manifest_has_the_read_only_messages_tab_for_the_bots_dms(path: Path) -> None:
    home = manifest(path)["features"]["app_home"]
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is True


def test_socket_mode_manifest_has_no_urls_and_http_manifest_points_everything_at_slack_events() -> None:
    http, socket = (manifest(p) for p in MANIFESTS)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["interactivity"]
    assert all("url" not in c for c in socket["features"]["slash_commands"])
    assert http["settings"]["socket_mode_enabled"] is False
    urls = {c["url"] for c in http["features"]["slash_commands"]} | {http["settings"]["interactivity"]["request_url"]}
    assert urls == {"https://YOUR-HOST/slack/events"}


def registered_events(files: list[Path]) -> set[str]:
    """Every `app.event("<name>")` the code registers."""
    found = set()
    for path in files:
        for node in ast.walk(parsed(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "event"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(str(node.args[0].value))
    return found


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_the_manifest_subscribes_to_exactly_the_events_the_code_handles_and_enables_the_home_tab(path: Path) -> None:
    handled = registered_events(python_files(("handlers",)))
    assert "app_home_opened" in handled
    data = manifest(path)
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == handled
    assert data["features"]["app_home"]["home_tab_enabled"] is True
