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

import pytest
import slack_sdk.web.client

from tests.support.slash_commands import (
    MANIFESTS,
    declared_help,
    manifest,
    manifest_commands,
    parsed,
    python_files,
    registered_commands,
    shown,
)

CODE_DIRS = ("bot", "handlers", "scheduler")

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
    "conversations.replies": {"channels:history", "groups:history"},
    # /ddb-report shares its evidence files (files_upload_v2)
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
}
# WebClient methods that make several Web API calls through other WebClient methods (not api_call directly)
COMPOSITE: dict[str, tuple[str, ...]] = {
    "files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal"),
}
SLASH_COMMANDS_SCOPE = "commands"


# --- slash commands ---------------------------------------------------------------------------------------


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
    declared = manifest_commands(path)
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
