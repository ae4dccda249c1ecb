"""The docs say what the code does, in both directions: every slash command the handlers register, every option
each command takes, every setting, config file key, metric and make target is documented where a reader looks for
it, and the docs name none the code does not have.

Everything is derived from the code: commands from the `app.command(...)` registrations (read as
tests/support/slash_commands.py reads them, for the Slack manifests too); a command's options from its CommandHelp usage
lines and from the option names its parser hands to `split_options`; settings from `bot.settings.Settings`'
environment names; config file keys from `bot.config.ConfigFile`'s models; metrics from `bot.metrics.REGISTRY`;
make targets from the Makefile's rules. A failure names what to document, and where.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
import typing
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import botocore.session
import dotenv
import pytest
import yaml
from botocore.validate import ParamValidator
from pydantic import AliasChoices, BaseModel

import handlers
from bot.config import ConfigFile
from bot.metrics import REGISTRY
from bot.settings import Settings
from bot.wiring.operations import PATHS
from handlers.kit.parsing import CommandHelp
from tests.support.slash_commands import python_files, registered_commands

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
COMMANDS_DOC = DOCS / "commands.md"
SETTINGS_DOC = DOCS / "settings.md"
OPERATING_DOC = DOCS / "operating.md"
DEVELOPMENT_DOC = DOCS / "development.md"
READERS_DOCS = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

# Documented ahead of the branches that add them to the code (issue 19 part 4: the docs were written while those
# branches were being merged). Absent from the code, they are allowed; once a branch has landed, its entries make
# this test fail: delete them here.
PENDING = {}

OPTION_IN_USAGE = re.compile(r"(?<![\w.<>:/-])([a-z][a-z_]*)=")
OPTION_WORD = re.compile(r"^\[?([a-z][a-z_]*)=")
COMMAND_NAME = re.compile(r"/ddb-[a-z]+(?![a-z-])")
SETTING_NAME = re.compile(r"\b(?:DDBBOT|SLACK)_[A-Z0-9]+(?:_[A-Z0-9]+)*\b")
CODE_SPAN = re.compile(r"`([^`]+)`")
KEY_ATTRIBUTE = re.compile(r"<[^<>]*\battr>=<")  # `<partition attr>=<value>` in a usage line


# --- what the code has ---------------------------------------------------------------------------------------


@cache
def code_commands() -> frozenset[str]:
    return frozenset(registered_commands(python_files(("handlers",))))


def handler_modules() -> Iterator[tuple[Path, object]]:
    for info in pkgutil.walk_packages(handlers.__path__, "handlers."):
        module = importlib.import_module(info.name)
        yield Path(str(module.__file__)), module


@cache
def command_helps() -> dict[str, tuple[str, ...]]:
    """Command → its usage lines, from every CommandHelp the handlers define."""
    usage: dict[str, tuple[str, ...]] = {}
    for _, module in handler_modules():
        for value in vars(module).values():
            if isinstance(value, CommandHelp):
                usage[value.command] = usage.get(value.command, ()) + value.usage
    return usage


@cache
def code_options() -> dict[str, frozenset[str]]:
    """Command → the options it takes: every `key=` of its usage, and every name its parser allows."""
    options = {c: {m for line in lines for m in OPTION_IN_USAGE.findall(line)} for c, lines in command_helps().items()}
    for path, module in handler_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "split_options"):
                continue
            allowed, help_ = (_value_of(module, arg) for arg in node.args[1:3])
            if isinstance(help_, CommandHelp) and isinstance(allowed, list | tuple):
                options.setdefault(help_.command, set()).update(str(a) for a in allowed)
    return {command: frozenset(names) for command, names in options.items()}


def _value_of(module: object, node: ast.expr) -> object:
    """A literal, or a module-level name's value; None for what only runs know (a parameter)."""
    if isinstance(node, ast.Tuple | ast.List):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    if isinstance(node, ast.Name):
        return getattr(module, node.id, None)
    return None


def takes_key_attributes(command: str) -> bool:
    """`/ddb-item orders orderId=A-1001`: words like `attr=value` name key attributes, not options."""
    return any(KEY_ATTRIBUTE.search(line) for line in command_helps().get(command, ()))


@cache
def code_settings() -> frozenset[str]:
    names = set()
    for field in Settings.model_fields.values():
        assert isinstance(field.validation_alias, AliasChoices), field
        names.add(str(field.validation_alias.choices[0]))
    return frozenset(names)


def config_sections() -> dict[str, frozenset[str]]:
    """`accounts` → the keys of one `[accounts.<alias>]` entry, and so on for each section of the file."""
    sections = {}
    for name, field in ConfigFile.model_fields.items():
        (model,) = (m for m in _types_in(field.annotation) if isinstance(m, type) and issubclass(m, BaseModel))
        sections[name] = frozenset(f.alias or key for key, f in model.model_fields.items())
    return sections


def _types_in(annotation: object) -> Iterator[object]:
    yield annotation
    for argument in typing.get_args(annotation):
        yield from _types_in(argument)


@cache
def code_metrics() -> frozenset[str]:
    """The bot's own metrics (`process_*` and `python_*` join the registry when the metrics port is built)."""
    metrics = (m for m in REGISTRY.collect() if m.name.startswith("ddbbot_"))
    return frozenset(m.name + ("_total" if m.type == "counter" else "") for m in metrics)


@cache
def make_targets() -> frozenset[str]:
    return frozenset(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def everything_in_code() -> set[str]:
    options = {f"{command} {option}=" for command, names in code_options().items() for option in names}
    keys = {f"[{name}] {key}" for name, names in config_sections().items() for key in names}
    targets = {f"make {t}" for t in make_targets()}
    return {*code_commands(), *options, *code_settings(), *keys, *code_metrics(), *targets}


# --- what the docs say ---------------------------------------------------------------------------------------


def headings(lines: list[str]) -> list[tuple[int, int]]:
    """(line index, level) of every Markdown heading, leaving out `#` lines inside fenced code."""
    found, fenced = [], False
    for index, line in enumerate(lines):
        fenced ^= line.startswith("```")
        if not fenced and line.startswith("#"):
            found.append((index, len(line) - len(line.lstrip("#"))))
    return found


def section(path: Path, heading: str) -> str:
    """The text under the first heading that contains `heading`, up to the next heading of its level or above."""
    lines = path.read_text().splitlines()
    marks = headings(lines)
    start = next(((i, level) for i, level in marks if heading in lines[i]), None)
    if start is None:
        return ""
    end = next((i for i, level in marks if i > start[0] and level <= start[1]), len(lines))
    return "\n".join(lines[start[0] + 1 : end])


def first_cells(text: str) -> set[str]:
    """The code spans in the first cell of every table row: `| `NAME`, `OTHER` | … |`."""
    cells = (line.split("|")[1] for line in text.splitlines() if line.startswith("| `"))
    return {span for cell in cells for span in CODE_SPAN.findall(cell)}


def code_block_lines(text: str) -> Iterator[str]:
    inside = False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            yield line.strip()


def documented_options(command: str) -> set[str]:
    """Option names on the command's lines in its section's code blocks, and first in its option tables' rows."""
    text = section(COMMANDS_DOC, f"`{command}`")
    words = [w for line in code_block_lines(text) if line.startswith(f"{command} ") for w in line.split()[1:]]
    names = {m[1] for w in words if (m := OPTION_WORD.match(w))}
    return names | {m[1] for span in first_cells(text) if (m := OPTION_WORD.match(span))}


def missing(expected: set[str] | frozenset[str], found: set[str] | frozenset[str]) -> list[str]:
    """What is expected and not found, less what waits for its branch."""
    return sorted(name for name in set(expected) - set(found) if name not in PENDING)


# --- commands and options ------------------------------------------------------------------------------------


def test_every_registered_command_has_its_section_in_docs_commands() -> None:
    lines = COMMANDS_DOC.read_text().splitlines()
    headed = {c for i, _ in headings(lines) for c in COMMAND_NAME.findall(lines[i])}
    absent = sorted(code_commands() - headed)
    assert not absent, f"Document these commands in docs/commands.md, each under a heading like ### `/ddb-x`: {absent}"


def test_the_docs_name_no_command_the_code_does_not_register() -> None:
    named = {(c, p.name) for p in READERS_DOCS for c in COMMAND_NAME.findall(p.read_text())}
    unknown = sorted(f"{c} ({where})" for c, where in named if c not in code_commands() and c not in PENDING)
    assert not unknown, f"The docs name commands no handler registers (fix the docs or the code): {unknown}"


@pytest.mark.parametrize("command", sorted(code_options()))
def test_every_option_of_a_command_is_in_its_section(command: str) -> None:
    text = section(COMMANDS_DOC, f"`{command}`")
    absent = missing(
        {f"{command} {o}=" for o in code_options()[command]},
        {f"{command} {o}=" for o in code_options()[command] if re.search(rf"(?<![\w.-]){o}=", text)},
    )
    assert not absent, f"Document these options in docs/commands.md, section `{command}`: {absent}"


@pytest.mark.parametrize("command", sorted(code_commands()))
def test_every_option_a_section_shows_is_one_the_command_takes(command: str) -> None:
    if takes_key_attributes(command):
        pytest.skip(f"{command} reads `attr=value` words as key attributes")
    shown = {f"{command} {o}=" for o in documented_options(command)}
    unknown = missing(shown, {f"{command} {o}=" for o in code_options().get(command, ())})
    assert not unknown, (
        f"docs/commands.md shows options that {command}'s parser and usage do not have: {unknown}. "
        "Fix the docs, or the command's CommandHelp and parser."
    )


# --- settings, config keys, metrics, make targets -------------------------------------------------------------


def test_every_setting_has_its_row_in_docs_settings() -> None:
    rows = first_cells(SETTINGS_DOC.read_text())
    absent = missing(code_settings(), rows)
    assert not absent, f"Add a row for each of these settings to a table in docs/settings.md: {absent}"
    unknown = missing({r for r in rows if SETTING_NAME.fullmatch(r) or r.startswith("AWS_")}, code_settings())
    assert not unknown, f"docs/settings.md has rows for variables bot/settings.py does not read: {unknown}"


def test_the_docs_and_deploy_examples_name_only_settings_the_code_reads() -> None:
    read_by_tests = {n for p in (ROOT / "tests").rglob("*.py") for n in SETTING_NAME.findall(p.read_text())}
    texts = [*READERS_DOCS, ROOT / "deploy" / "example.env", ROOT / "deploy" / "ecs-task-definition.json"]
    named = {
        (n, p.name) for p in [*texts, ROOT / "deploy" / "kubernetes.yaml"] for n in SETTING_NAME.findall(p.read_text())
    }
    known = code_settings() | {n for n in read_by_tests if n.startswith("DDBBOT_TEST_")}
    unknown = sorted(f"{n} ({where})" for n, where in named if n not in known and n not in PENDING)
    assert not unknown, f"These are named as settings but bot/settings.py does not read them: {unknown}"


@pytest.mark.parametrize("name", sorted(config_sections()))
def test_every_config_file_key_has_its_row_in_docs_settings(name: str) -> None:
    text = section(SETTINGS_DOC, f"[{name}")
    assert text, f"docs/settings.md lacks a heading for the config file's [{name}…] section"
    rows = {key for cell in first_cells(text) for key in re.split(r"`?,\s*`?", cell)}
    keys = {f"[{name}] {key}" for key in config_sections()[name]}
    absent, unknown = (
        missing(keys, {f"[{name}] {key}" for key in rows}),
        missing({f"[{name}] {key}" for key in rows}, keys),
    )
    assert not absent, f"Document these keys of [{name}…] in docs/settings.md under its heading: {absent}"
    assert not unknown, f"docs/settings.md documents keys bot/config.py does not accept in [{name}…]: {unknown}"


def test_every_metric_has_its_row_in_docs_operating() -> None:
    rows = {m for cell in first_cells(section(OPERATING_DOC, "Metrics")) for m in re.findall(r"ddbbot_\w+", cell)}
    absent = missing(code_metrics(), rows)
    assert not absent, f"Add these metrics to the table under 'Metrics' in docs/operating.md: {absent}"
    unknown = missing(rows, code_metrics())
    assert not unknown, f"docs/operating.md lists metrics bot/metrics.py does not define: {unknown}"


def test_every_make_target_has_its_row_in_docs_development() -> None:
    rows = {
        f"make {m}" for cell in first_cells(DEVELOPMENT_DOC.read_text()) for m in re.findall(r"^make ([a-z-]+)", cell)
    }
    absent = missing({f"make {t}" for t in make_targets()}, rows)
    assert not absent, f"Add these targets to the make table in docs/development.md: {absent}"
    unknown = missing(rows, {f"make {t}" for t in make_targets()})
    assert not unknown, f"docs/development.md lists make targets the Makefile does not have: {unknown}"


def test_entries_waiting_for_their_branch_have_not_landed_yet() -> None:
    landed = sorted(f"{name} ({branch})" for name, branch in PENDING.items() if name in everything_in_code())
    assert not landed, f"These are in the code now: delete them from PENDING in tests/unit/test_docs.py: {landed}"


# --- the deploy examples the production path uses ------------------------------------------------------------


def test_the_example_environment_file_holds_valid_settings_and_no_secret() -> None:
    values = dotenv.dotenv_values(ROOT / "deploy" / "example.env")
    secrets = {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "AWS_SECRET_ACCESS_KEY"}
    assert not {n for n in secrets if values.get(n)}, "deploy/example.env must hold no secret: leave them commented out"
    given = {name: value for name, value in values.items() if value}
    Settings.model_validate(given)  # raises, naming the variable, when an example value is not valid


def test_the_kubernetes_probes_ask_the_bot_where_it_answers() -> None:
    documents = list(yaml.safe_load_all((ROOT / "deploy" / "kubernetes.yaml").read_text()))
    (deployment,) = (d for d in documents if d["kind"] == "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    metrics_port = Settings.model_fields["metrics_port"].default
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        asked = container[probe]["httpGet"]
        assert asked["path"] == path and path in PATHS, f"{probe} must ask {path}"
        assert ports[asked["port"]] == metrics_port, f"{probe} must ask DDBBOT_METRICS_PORT ({metrics_port})"


def test_the_ecs_task_definition_is_one_ecs_accepts_and_probes_healthz() -> None:
    document = json.loads((ROOT / "deploy" / "ecs-task-definition.json").read_text())
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition")
    report = ParamValidator().validate(document, shape.input_shape)
    assert not report.has_errors(), report.generate_report()
    (container,) = document["containerDefinitions"]
    metrics_port = Settings.model_fields["metrics_port"].default
    assert f"127.0.0.1:{metrics_port}/healthz" in " ".join(container["healthCheck"]["command"])
    assert {p["containerPort"] for p in container["portMappings"]} == {
        Settings.model_fields["port"].default,
        metrics_port,
    }
    assert not {e["name"] for e in container["environment"]} & {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}


# --- links between the pages -------------------------------------------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    lines = path.read_text().splitlines()
    titles = (lines[i].lstrip("#").strip() for i, _ in headings(lines))
    return {re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-") for title in titles}


@pytest.mark.parametrize("page", READERS_DOCS, ids=lambda p: p.name)
def test_every_link_of_a_page_reaches_a_file_and_heading(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to files or headings that do not exist: {broken}"
